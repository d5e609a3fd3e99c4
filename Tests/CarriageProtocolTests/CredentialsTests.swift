import XCTest

@testable import CarriageProtocol

final class CredentialsTests: XCTestCase {
    private func parse(_ text: String) throws(CredentialsError) -> Credentials {
        try Credentials(parsing: Array(text.utf8))
    }

    func testParsesUsersCommentsBlankLinesAndCRLF() throws {
        let credentials = try parse("# users\r\nalice:secret\r\n\nbob:pa:ss\n")
        XCTAssertEqual(credentials.users, ["alice", "bob"])
        XCTAssertTrue(credentials.verify(user: Array("alice".utf8)[...], password: Array("secret".utf8)[...]))
        XCTAssertTrue(credentials.verify(user: Array("bob".utf8)[...], password: Array("pa:ss".utf8)[...]))
    }

    func testRefusesWrongPasswordsAndUsers() throws {
        let credentials = try parse("alice:secret\n")
        for (user, password) in [("alice", "secreT"), ("alice", "secret2"), ("alice", "secre"), ("alice", ""),
                                 ("bob", "secret"), ("", ""), ("Alice", "secret")] {
            XCTAssertFalse(credentials.verify(user: Array(user.utf8)[...], password: Array(password.utf8)[...]), "\(user):\(password)")
        }
    }

    func testMalformedLinesAreNamed() {
        let cases: [(String, CredentialsError)] = [
            ("alice:secret\nbroken\n", .malformedLine(2, "no ':' between user and password")),
            (":secret\n", .malformedLine(1, "the user is empty")),
            ("alice:\n", .malformedLine(1, "the password is empty")),
            ("alice:se cret\n", .malformedLine(1, "spaces and control characters are not allowed")),
            ("alice:a\nalice:b\n", .malformedLine(2, "user 'alice' appears twice")),
            ("# nobody\n\n", .noUsers),
            ("", .noUsers),
        ]
        for (text, expected) in cases {
            XCTAssertThrowsError(try parse(text), text.debugDescription) { error in
                XCTAssertEqual(error as? CredentialsError, expected, text.debugDescription)
            }
        }
    }

    func testConstantTimeEqualsIsPlainEquality() {
        for (a, b) in [("", ""), ("a", ""), ("", "a"), ("abc", "abc"), ("abc", "abd"), ("abc", "abcd"), ("abcd", "abc")] {
            XCTAssertEqual(Credentials.constantTimeEquals(Array(a.utf8), Array(b.utf8)[...]), a == b, "\(a) \(b)")
        }
    }

    func testAuthStatePacksIntoOneByte() {
        for state in [AuthState(), AuthState(isAuthenticated: true), AuthState(isAuthenticated: false, failures: 2)] {
            XCTAssertEqual(AuthState(packed: state.packed), state)
        }
    }
}
