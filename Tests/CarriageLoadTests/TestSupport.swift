import XCTest

@testable import CarriageLoad

/// One request template compiled into a mix of its own, and a parser for its protocol:
/// what a load connection has when a reply arrives.
struct ParserHarness {
    let mix: RequestMix
    let parser: any ReplyParser
    let expected: ExpectedReply

    /// `checkedValue`: the value reads must return, as when the mix writes `%v`.
    init(_ request: String, wire: WireProtocol = .carriage, keyPrefix: String = "key:", checkedValue: String? = nil) throws {
        let template = try RequestTemplate(parsing: request, wire: wire, value: "abc")
        mix = RequestMix(templates: [template], keyCount: 1, keyPrefix: keyPrefix, checkedValue: checkedValue)
        parser = wire.parserType.init()
        expected = mix.expected(0)
    }

    /// Parses `reply` as the answer to the template (rendered with key 0, `key:0`).
    func parse(_ reply: String) -> ParsedReply? {
        let bytes = Array(reply.utf8)
        return bytes.withUnsafeBytes { parser.parse(Bytes($0), expecting: expected, mix: mix, key: mix.key(0)) }
    }

    /// The outcome of a complete reply, and that it took all of `reply`'s bytes.
    func outcome(_ reply: String, file: StaticString = #filePath, line: UInt = #line) -> ReplyOutcome? {
        guard let parsed = parse(reply) else {
            XCTFail("'\(reply)' was taken as incomplete", file: file, line: line)
            return nil
        }
        XCTAssertEqual(parsed.length, reply.utf8.count, "length of '\(reply)'", file: file, line: line)
        return parsed.outcome
    }

    /// The request as the mix renders it.
    func rendered() -> String {
        var buffer = ByteBuffer(capacity: 64)
        mix.render(template: 0, key: 0, into: &buffer)
        return String(decoding: buffer.readable, as: UTF8.self)
    }
}

/// The `.badOption` message of a template that must be refused, or nil if it was taken.
func refusal(_ request: String, wire: WireProtocol = .carriage) -> String? {
    do {
        _ = try RequestTemplate(parsing: request, wire: wire, value: "abc")
        return nil
    } catch {
        return error.description
    }
}
