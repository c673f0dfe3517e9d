import Foundation

/// What cloud-init in a guest is handed at its first boot (EC2's `UserData` and key pair): the user data as
/// given (a `#cloud-config` document, a script, …) and ssh public keys for the image's default user.
public struct GuestCustomization: Sendable, Equatable {
    public var userData: Data?
    public var sshPublicKeys: [String]

    /// EC2's limit on user data.
    public static let maximumUserData = 16 << 10

    public init(userData: Data? = nil, sshPublicKeys: [String] = []) {
        self.userData = userData
        self.sshPublicKeys = sshPublicKeys
    }

    public func validate() throws(SnaplabError) {
        if let userData, userData.count > Self.maximumUserData {
            throw SnaplabError(
                .invalidArgument, "user data is \(userData.count) bytes; at most \(Self.maximumUserData) are accepted")
        }
        for key in sshPublicKeys {
            let fields = key.split(separator: " ")
            guard fields.count >= 2, fields[0].hasPrefix("ssh-") || fields[0].hasPrefix("ecdsa-"),
                !key.contains("\n"), Data(base64Encoded: String(fields[1])) != nil
            else {
                throw SnaplabError(
                    .invalidArgument,
                    "'\(key.prefix(40))…' is not an ssh public key; give the .pub file (one `ssh-ed25519 AAAA… comment` line)"
                )
            }
        }
    }
}
