import EnvMonDomain
import EnvMonIngest
public import EnvMonStore
import Foundation
import NIOCore

extension IngestRequest {
    /// The request an upload was stored with, rebuilt from its `options` (see `storedOptions`).
    init(archived upload: ArchivedUpload, uploader: String) {
        self.init(kind: upload.kind, uploader: uploader, fileName: upload.fileName)
        format = upload.format
        encoding = upload.options["encoding"].flatMap(FeedEncoding.init(rawValue:)) ?? .auto
        timeZone = upload.options["time_zone"].flatMap(TimeZone.init(identifier:))
        if let share = upload.options["max_rejected_share"].flatMap(Double.init), (0...1).contains(share) {
            maxRejectedShare = share
        }
        year = upload.options["year"].flatMap { Int($0) }
        sheet = upload.options["sheet"]
        if let text = upload.options["delimiter"], let byte = text.utf8.first, text.utf8.count == 1 { delimiter = byte }
    }
}

extension IngestService {
    /// Parses and loads an upload that was archived with a queued job, reading its stored chunks
    /// in order; the load runs in FactLoader's one transaction. An upload that already has its
    /// outcome (an earlier attempt committed, then its worker died) is not loaded again.
    public func loadQueued(uploadID: Int64) async throws -> LoadOutcome {
        let archive = UploadArchive(database: database)
        guard let upload = try await archive.archived(id: uploadID) else {
            throw EnvMonError.notFound("upload \(uploadID) is no longer in the archive")
        }
        if upload.status == .loaded || upload.status == .failed {
            return LoadOutcome(status: upload.status)
        }
        let request = IngestRequest(archived: upload, uploader: "")
        // The stored encoding is what the receiver detected over the whole body; a declared
        // encoding wins.
        var encoding = request.encoding
        if encoding == .auto { encoding = upload.encoding.flatMap(FeedEncoding.init(rawValue:)) ?? .auto }
        if encoding == .auto {
            // Not recorded (an older row): one pass over the chunks decides, as for a file.
            var sniffer = EncodingSniffer()
            var seq: Int32 = 0
            while let chunk = try await archive.chunk(uploadID: uploadID, seq: seq) {
                sniffer.consume(chunk.readableBytesView)
                seq += 1
            }
            encoding = sniffer.finish()
        }
        var seq: Int32 = 0
        return try await load(
            uploadID: uploadID, request: request, encoding: encoding,
            fileName: upload.fileName ?? "upload \(uploadID)", direct: upload.size >= request.directLoadMinimumBytes
        ) { fromStart in
            if fromStart { seq = 0 }
            guard let chunk = try await archive.chunk(uploadID: uploadID, seq: seq) else { return nil }
            seq += 1
            return Data(chunk.readableBytesView)
        }
    }
}
