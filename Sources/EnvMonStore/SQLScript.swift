import Foundation

/// Splits a SQL script into statements, the way psql does: semicolons end statements except
/// inside quotes, quoted identifiers, dollar-quoted bodies and comments.
///
/// postgres-nio speaks the extended protocol, which runs one statement per query.
public enum SQLScript {
    public static func statements(_ script: String) -> [String] {
        var statements: [String] = []
        var current: [Character] = []
        let chars = Array(script)
        var i = 0
        func flush() {
            let text = String(current).trimmingCharacters(in: .whitespacesAndNewlines)
            if !text.isEmpty && !isOnlyComments(text) { statements.append(text) }
            current.removeAll(keepingCapacity: true)
        }
        while i < chars.count {
            let c = chars[i]
            let next: Character? = i + 1 < chars.count ? chars[i + 1] : nil
            if c == "-" && next == "-" {
                while i < chars.count && chars[i] != "\n" { current.append(chars[i]); i += 1 }
                continue
            }
            if c == "/" && next == "*" {
                var depth = 0
                repeat {
                    if chars[i] == "/" && i + 1 < chars.count && chars[i + 1] == "*" {
                        depth += 1; current.append(contentsOf: "/*"); i += 2; continue
                    }
                    if chars[i] == "*" && i + 1 < chars.count && chars[i + 1] == "/" {
                        depth -= 1; current.append(contentsOf: "*/"); i += 2; continue
                    }
                    current.append(chars[i]); i += 1
                } while depth > 0 && i < chars.count
                continue
            }
            if c == "'" || c == "\"" {
                current.append(c); i += 1
                while i < chars.count {
                    current.append(chars[i])
                    if chars[i] == c {
                        if i + 1 < chars.count && chars[i + 1] == c { current.append(c); i += 2; continue }
                        i += 1
                        break
                    }
                    i += 1
                }
                continue
            }
            if c == "$", let tag = dollarTag(chars, at: i) {
                current.append(contentsOf: tag); i += tag.count
                while i < chars.count {
                    if chars[i] == "$" && Array(chars[i..<min(chars.count, i + tag.count)]) == tag {
                        current.append(contentsOf: tag); i += tag.count
                        break
                    }
                    current.append(chars[i]); i += 1
                }
                continue
            }
            if c == ";" { flush(); i += 1; continue }
            current.append(c); i += 1
        }
        flush()
        return statements
    }

    /// `$tag$` or `$$` starting at `index`, as characters.
    private static func dollarTag(_ chars: [Character], at index: Int) -> [Character]? {
        var j = index + 1
        while j < chars.count, chars[j].isLetter || chars[j].isNumber || chars[j] == "_" { j += 1 }
        guard j < chars.count, chars[j] == "$" else { return nil }
        if j > index + 1, chars[index + 1].isNumber { return nil }  // $1 is a parameter
        return Array(chars[index...j])
    }

    private static func isOnlyComments(_ text: String) -> Bool {
        text.split(separator: "\n").allSatisfy {
            let line = $0.trimmingCharacters(in: .whitespaces)
            return line.isEmpty || line.hasPrefix("--")
        }
    }
}
