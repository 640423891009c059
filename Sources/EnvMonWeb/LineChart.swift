import Foundation

/// A small line chart drawn as SVG on the server: one series of points, an optional horizontal
/// limit or target line, an optional dashed projection, points above a limit marked. No script,
/// no style attributes (the Content-Security-Policy allows neither inline); presentation
/// attributes only. The numbers are also in a table beside every chart, so the SVG is
/// `role="img"` with a title and a description for screen readers.
struct LineChart {
    struct Point {
        /// Position on the x axis (a day number).
        var x: Double
        var y: Double
        var label: String
        /// Drawn in the alarm colour (e.g. a daily mean over its limit).
        var marked = false
    }

    var title: String
    var description: String
    var points: [Point]
    /// A horizontal line: the target or the limit, with its label.
    var reference: (value: Double, label: String)?
    /// A dashed line from one point to another (the trend projected to the due date).
    var projection: (from: (x: Double, y: Double), to: (x: Double, y: Double), label: String)?
    var format: (Double) -> String
    var width = 420.0
    var height = 170.0

    private let left = 52.0, right = 14.0, top = 12.0, bottom = 26.0

    func svg() -> String {
        var xs = points.map(\.x), ys = points.map(\.y)
        if let reference { ys.append(reference.value) }
        if let projection { xs += [projection.from.x, projection.to.x]; ys += [projection.from.y, projection.to.y] }
        guard let x0 = xs.min(), let x1 = xs.max(), var y0 = ys.min(), var y1 = ys.max() else {
            return "<svg class=\"chart\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"\(Self.escape(title))\"></svg>"
        }
        let pad = max((y1 - y0) * 0.12, abs(y1) * 0.01, 1e-9)
        y0 -= pad
        y1 += pad
        if y0 < 0 && (ys.min() ?? 0) >= 0 { y0 = 0 }
        let plotW = width - left - right, plotH = height - top - bottom
        func px(_ x: Double) -> Double { x1 == x0 ? left + plotW / 2 : left + (x - x0) / (x1 - x0) * plotW }
        func py(_ y: Double) -> Double { top + (1 - (y - y0) / (y1 - y0)) * plotH }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }

        var out = "<svg class=\"chart\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\" aria-labelledby=\"\(id)-t \(id)-d\">"
        out += "<title id=\"\(id)-t\">\(Self.escape(title))</title><desc id=\"\(id)-d\">\(Self.escape(description))</desc>"
        // Grid: four levels with their values.
        for step in 0...3 {
            let value = y0 + (y1 - y0) * Double(step) / 3
            let y = py(value)
            out += "<line x1=\"\(f(left))\" y1=\"\(f(y))\" x2=\"\(f(width - right))\" y2=\"\(f(y))\" stroke=\"#e3e7eb\" stroke-width=\"1\"/>"
            out += "<text x=\"\(f(left - 4))\" y=\"\(f(y + 4))\" text-anchor=\"end\" font-size=\"10\" fill=\"#5c6773\">\(Self.escape(format(value)))</text>"
        }
        if let reference {
            let y = py(reference.value)
            out += "<line x1=\"\(f(left))\" y1=\"\(f(y))\" x2=\"\(f(width - right))\" y2=\"\(f(y))\" stroke=\"#a01c16\" stroke-width=\"1.2\" stroke-dasharray=\"5 3\"/>"
            out += "<text x=\"\(f(width - right))\" y=\"\(f(y - 3))\" text-anchor=\"end\" font-size=\"10\" fill=\"#a01c16\">\(Self.escape(reference.label))</text>"
        }
        if let projection {
            out += "<line x1=\"\(f(px(projection.from.x)))\" y1=\"\(f(py(projection.from.y)))\" x2=\"\(f(px(projection.to.x)))\" y2=\"\(f(py(projection.to.y)))\" stroke=\"#7a5200\" stroke-width=\"1.5\" stroke-dasharray=\"2 3\"/>"
            out += "<circle cx=\"\(f(px(projection.to.x)))\" cy=\"\(f(py(projection.to.y)))\" r=\"3\" fill=\"none\" stroke=\"#7a5200\"/>"
            out += "<text x=\"\(f(px(projection.to.x)))\" y=\"\(f(height - 8))\" text-anchor=\"end\" font-size=\"10\" fill=\"#7a5200\">\(Self.escape(projection.label))</text>"
        }
        if points.count > 1 {
            let path = points.map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " ")
            out += "<polyline points=\"\(path)\" fill=\"none\" stroke=\"#1f6f43\" stroke-width=\"1.8\"/>"
        }
        let radius = points.count > 60 ? 1.6 : 3
        for point in points {
            out += "<circle cx=\"\(f(px(point.x)))\" cy=\"\(f(py(point.y)))\" r=\"\(point.marked ? radius + 1 : radius)\" fill=\"\(point.marked ? "#e5383b" : "#1f6f43")\"><title>\(Self.escape("\(point.label): \(format(point.y))"))</title></circle>"
        }
        if let first = points.first {
            out += "<text x=\"\(f(left))\" y=\"\(f(height - 8))\" font-size=\"10\" fill=\"#5c6773\">\(Self.escape(first.label))</text>"
        }
        if let last = points.last, points.count > 1, projection == nil {
            out += "<text x=\"\(f(width - right))\" y=\"\(f(height - 8))\" text-anchor=\"end\" font-size=\"10\" fill=\"#5c6773\">\(Self.escape(last.label))</text>"
        } else if let last = points.last, points.count > 1 {
            out += "<text x=\"\(f(px(last.x)))\" y=\"\(f(height - 8))\" text-anchor=\"middle\" font-size=\"10\" fill=\"#5c6773\">\(Self.escape(last.label))</text>"
        }
        return out + "</svg>"
    }

    /// A stable id for the title and description (charts on one page differ by title).
    private var id: String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in title.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return "c" + String(hash, radix: 36)
    }

    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    /// The least-squares line through the points (x, y): (slope, intercept), nil with fewer than
    /// three points or no spread in x — the same fit as `analytics.plan_progress_by_period`
    /// (`regr_slope`, `regr_intercept` over the last six periods).
    static func leastSquares(_ points: [(x: Double, y: Double)]) -> (slope: Double, intercept: Double)? {
        guard points.count >= 3 else { return nil }
        let n = Double(points.count)
        let mx = points.map(\.x).reduce(0, +) / n, my = points.map(\.y).reduce(0, +) / n
        let sxx = points.map { ($0.x - mx) * ($0.x - mx) }.reduce(0, +)
        guard sxx > 0 else { return nil }
        let sxy = points.map { ($0.x - mx) * ($0.y - my) }.reduce(0, +)
        let slope = sxy / sxx
        return (slope, my - slope * mx)
    }
}
