import CLibevent
import Glibc

/// A small HTTP/1.1 server from libevent's own `evhttp`, run by an ``EventLoop``'s thread
/// (the only thread that calls libevent for it): for an endpoint such as `/metrics`, not
/// for traffic. Every request goes to one handler, which answers it at once.
///
/// Context pointer: `passUnretained(self)`. This object owns the `evhttp` and frees it in
/// `deinit`, so libevent never calls back into a freed object.
package final class HTTPServer {
    /// What the handler answers.
    package struct Response {
        package var status: Int32
        package var contentType: String
        package var body: [UInt8]

        package init(status: Int32, contentType: String = "text/plain; charset=utf-8", body: [UInt8]) {
            self.status = status
            self.contentType = contentType
            self.body = body
        }
    }

    /// The request's method (`GET`, `HEAD`, ...) and its URI; runs on the loop thread.
    package typealias Handler = (_ method: String, _ uri: String) -> Response

    private let http: OpaquePointer
    private let handler: Handler
    /// The loop must outlive the server.
    private let loop: EventLoop
    /// The port it listens on (the kernel's choice for 0).
    package private(set) var port = 0

    /// Listens on `host:port` (0: any free port) on `loop`.
    package init(loop: EventLoop, host: String, port: Int, handler: @escaping Handler) throws(SystemError) {
        guard let http = evhttp_new(loop.base) else { throw lastErrno("evhttp_new") }
        self.http = http
        self.handler = handler
        self.loop = loop
        evhttp_set_allowed_methods(http, UInt16(EVHTTP_REQ_GET.rawValue | EVHTTP_REQ_HEAD.rawValue))
        evhttp_set_timeout(http, 10)
        // passUnretained: see the type's comment.
        evhttp_set_gencb(http, Self.trampoline, Unmanaged.passUnretained(self).toOpaque())
        guard let bound = evhttp_bind_socket_with_handle(http, host, UInt16(port)) else {
            let error = lastErrno("bind")
            evhttp_free(http)
            throw error
        }
        self.port = (try? Socket.localPort(evhttp_bound_socket_get_fd(bound))) ?? port
    }

    deinit {
        evhttp_free(http)
    }

    private static let trampoline: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?) -> Void = { request, context in
        guard let request, let context else { return }
        Unmanaged<HTTPServer>.fromOpaque(context).takeUnretainedValue().answer(request)
    }

    private func answer(_ request: OpaquePointer) {
        let method = switch evhttp_request_get_command(request) {
        case EVHTTP_REQ_GET: "GET"
        case EVHTTP_REQ_HEAD: "HEAD"
        default: "OTHER"
        }
        let uri = evhttp_request_get_uri(request).map { String(cString: $0) } ?? "/"
        let response = handler(method, uri)
        guard let body = evbuffer_new() else {
            evhttp_send_error(request, 500, nil)
            return
        }
        defer { evbuffer_free(body) }
        _ = response.body.withUnsafeBytes { evbuffer_add(body, $0.baseAddress, $0.count) }
        evhttp_add_header(evhttp_request_get_output_headers(request), "Content-Type", response.contentType)
        evhttp_send_reply(request, response.status, response.status == 200 ? "OK" : "Not Found", body)
    }
}
