public import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Where the embedded cluster's files live.
public struct ClusterLayout: Sendable {
    /// `$ENVMON_HOME`: password file, state file, lock, log.
    public let home: URL
    /// The folder owned by the PostgreSQL user that holds `data/` (normally `$ENVMON_HOME/pg`).
    public let clusterRoot: URL
    public var dataDirectory: URL { clusterRoot.appendingPathComponent("data") }
    /// The unix socket folder (short: socket paths are limited to 107 bytes).
    public let socketDirectory: URL
    public var passwordFile: URL { home.appendingPathComponent("pg-password") }
    public var stateFile: URL { home.appendingPathComponent("pg.json") }
    public var logFile: URL { clusterRoot.appendingPathComponent("postgres.log") }
    /// Set when the cluster is kept outside `$ENVMON_HOME`, saying why.
    public let relocatedReason: String?

    static func resolve(home: URL, runAs: String?) throws(EmbeddedPostgresError) -> ClusterLayout {
        let home = home.standardizedFileURL
        do {
            try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        } catch {
            throw .init("cannot create ENVMON_HOME \(home.path): \(error.localizedDescription)")
        }
        let tag = fnv1a(home.path)
        var clusterRoot = home.appendingPathComponent("pg")
        var reason: String?
        if let runAs, let blocked = firstUnreachableAncestor(of: home, user: runAs) {
            // The PostgreSQL user cannot enter a parent folder (a root-only home, a mktemp -d
            // folder): keep the cluster where it can, tied to this home by a hash of its path.
            clusterRoot = URL(fileURLWithPath: "/var/tmp/envmon-pg-\(tag)")
            reason = "user \(runAs) cannot enter \(blocked); cluster kept in \(clusterRoot.path)"
        }
        var socket = home.appendingPathComponent("run")
        let longestSocketPath = socket.path.utf8.count + "/.s.PGSQL.65535.lock".utf8.count
        if reason != nil || longestSocketPath > 100 {
            socket = URL(fileURLWithPath: "/tmp/envmon-\(tag.prefix(8))")
        }
        return ClusterLayout(home: home, clusterRoot: clusterRoot, socketDirectory: socket, relocatedReason: reason)
    }

    /// The first folder on the way to `url` that `user` may not search (execute), if any.
    static func firstUnreachableAncestor(of url: URL, user: String) -> String? {
        guard let pw = getpwnam(user) else { return nil }
        let uid = pw.pointee.pw_uid
        let gid = pw.pointee.pw_gid
        var path = "/"
        for component in url.pathComponents.dropFirst() {
            path = (path as NSString).appendingPathComponent(component)
            var info = stat()
            guard stat(path, &info) == 0 else { return nil }  // not made yet: we make it reachable
            let mode = info.st_mode
            let searchable: Bool
            if info.st_uid == uid {
                searchable = mode & S_IXUSR != 0
            } else if info.st_gid == gid {
                searchable = mode & S_IXGRP != 0
            } else {
                searchable = mode & S_IXOTH != 0
            }
            if !searchable { return path }
        }
        return nil
    }

    static func fnv1a(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return String(hash, radix: 16)
    }
}

/// What `pg.json` remembers about the cluster.
struct ClusterState: Codable, Sendable {
    var port: Int
    var binDirectory: String

    static func load(from url: URL) throws(EmbeddedPostgresError) -> ClusterState {
        do {
            return try JSONDecoder().decode(ClusterState.self, from: Data(contentsOf: url))
        } catch {
            throw .init("cannot read the embedded cluster's state \(url.path): \(error.localizedDescription)")
        }
    }

    func save(to url: URL) throws(EmbeddedPostgresError) {
        do {
            try JSONEncoder().encode(self).write(to: url, options: .atomic)
        } catch {
            throw .init("cannot write \(url.path): \(error.localizedDescription)")
        }
    }
}

/// Finds free TCP ports on 127.0.0.1.
enum PortFinder {
    static func freePort() throws(EmbeddedPostgresError) -> Int {
        for _ in 0..<20 {
            if let port = bindAndRelease(0), isFree(port) { return port }
        }
        throw .init("no free TCP port on 127.0.0.1")
    }

    static func isFree(_ port: Int) -> Bool { bindAndRelease(port) != nil }

    /// Binds 127.0.0.1:port (0 = any) and returns the bound port, or nil when it is taken.
    private static func bindAndRelease(_ port: Int) -> Int? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        // As PostgreSQL binds: a port whose last connections linger in TIME_WAIT is free to it.
        var yes: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else { return nil }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { return nil }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// An exclusive advisory lock on a file (flock), held until released.
struct FileLock {
    private let fd: Int32

    init(path: String) throws(EmbeddedPostgresError) {
        // Close-on-exec: a server started under the lock must not inherit it, or a process killed
        // while starting would leave the lock held by the server for good.
        fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .init("cannot open lock file \(path): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX) == 0 else {
            close(fd)
            throw .init("cannot lock \(path): \(String(cString: strerror(errno)))")
        }
    }

    func release() {
        _ = flock(fd, LOCK_UN)
        close(fd)
    }
}

/// Runs a program to completion and collects its output.
///
/// posix_spawn + waitpid rather than Foundation.Process: Process.waitUntilExit can miss a
/// child's exit when called off the main thread and hang forever (seen with pg_ctl here).
/// Output goes to temporary files, so a daemon that keeps a pipe open cannot block us either.
/// Public for the test support, which runs short helper programs (openssl, iconv) the same way.
public enum Shell {
    public struct Result: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// A started program: its pid, and where its output goes until it is waited for.
    public struct Child: Sendable {
        public let pid: pid_t
        let executable: String
        let outPath: String
        let errPath: String

        /// Sends `signal` (e.g. SIGKILL, SIGTERM) to the program.
        /// What the child has written to standard output so far.
        public func outputSoFar() -> String {
            (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        }

        public func signal(_ signal: Int32) {
            kill(pid, signal)
        }

        /// True once the program has exited; reaps it and returns its result then.
        /// `nil` while it still runs. Never blocks.
        public func poll() throws(EmbeddedPostgresError) -> Result? {
            var status: Int32 = 0
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == 0 { return nil }
            guard reaped == pid else {
                throw .init("waiting for \(executable) failed: \(String(cString: strerror(errno)))")
            }
            return collect(status)
        }

        /// Waits, on a thread of its own, until the program exits (for async callers).
        public func exit() async throws -> Result {
            let child = self
            return try await Shell.offThread { try child.wait() }
        }

        /// Blocks the calling thread until the program exits.
        public func wait() throws(EmbeddedPostgresError) -> Result {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) == -1 {
                guard errno == EINTR else { throw .init("waiting for \(executable) failed: \(String(cString: strerror(errno)))") }
            }
            return collect(status)
        }

        private func collect(_ status: Int32) -> Result {
            // WIFEXITED / WEXITSTATUS, spelled out (the C macros are not imported).
            let exitCode: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
            let out = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
            let err = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
            unlink(outPath)
            unlink(errPath)
            return Result(status: exitCode, stdout: out, stderr: err)
        }
    }

    /// Runs `executable` to completion; `standardInput` names a file to read as stdin (default
    /// /dev/null). Blocks the calling thread until the program exits.
    public static func run(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:], standardInput: String? = nil,
        unsetting unset: [String] = []
    ) throws(EmbeddedPostgresError) -> Result {
        try spawn(executable, arguments, environment: environment, standardInput: standardInput, unsetting: unset).wait()
    }

    /// Runs `executable` to completion on a thread of its own, so that an async caller never
    /// blocks one of the few threads of Swift's cooperative pool while the program runs (on a
    /// 2-core machine, two such waits stop every other task).
    public static func run(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:], standardInput: String? = nil,
        unsetting unset: [String] = []
    ) async throws -> Result {
        try await offThread {
            try run(executable, arguments, environment: environment, standardInput: standardInput, unsetting: unset)
        }
    }

    /// `body` on a new thread; its result or error when it returns.
    static func offThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread { continuation.resume(with: Swift.Result { try body() }) }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    /// Starts `executable` and returns at once; stdout and stderr go to temporary files that
    /// `Child.wait()` or `Child.poll()` read and remove.
    public static func spawn(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:], standardInput: String? = nil,
        unsetting unset: [String] = []
    ) throws(EmbeddedPostgresError) -> Child {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("envmon-shell-\(UUID().uuidString)")
        let outPath = scratch.path + ".out"
        let errPath = scratch.path + ".err"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, standardInput ?? "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        // The child gets stdin, stdout and stderr only. Without this it would inherit every
        // descriptor of ours that is not close-on-exec (NIO's sockets are not): a spawned
        // postmaster or `envmon serve` would keep our database sessions open after we exit.
        closeOtherDescriptors(&actions)

        var env = ProcessInfo.processInfo.environment
        for name in unset { env[name] = nil }
        for (key, value) in environment { env[key] = value }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        // A clean signal mask and default handlers: the test runner blocks SIGTERM in its threads.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGPIPE, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard spawned == 0 else {
            unlink(outPath)
            unlink(errPath)
            throw .init("cannot run \(executable): \(String(cString: strerror(spawned)))")
        }
        return Child(pid: pid, executable: executable, outPath: outPath, errPath: errPath)
    }
}

/// Adds "close every descriptor from 3 up" to `actions`: glibc's
/// `posix_spawn_file_actions_addclosefrom_np` (2.34 and later, looked up at run time since the
/// Swift overlay does not declare it); on an older libc, every open descriptor from 3 up is
/// marked close-on-exec instead.
private func closeOtherDescriptors(_ actions: inout posix_spawn_file_actions_t) {
    typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") {
        let closeFrom = unsafeBitCast(symbol, to: CloseFrom.self)
        if closeFrom(&actions, 3) == 0 { return }
    }
    guard let directory = opendir("/proc/self/fd") else { return }
    defer { closedir(directory) }
    let own = dirfd(directory)
    while let entry = readdir(directory) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        guard let fd = Int32(name), fd > 2, fd != own else { continue }
        let flags = fcntl(fd, F_GETFD)
        if flags >= 0 { _ = fcntl(fd, F_SETFD, flags | FD_CLOEXEC) }
    }
}

