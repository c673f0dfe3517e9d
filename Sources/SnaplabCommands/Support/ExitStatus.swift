import SnaplabCore

/// The one mapping from error codes to process exit statuses.
enum ExitStatus {
    static func `for`(_ code: SnaplabError.Code) -> Int32 {
        switch code {
        case .internal: 1
        case .invalidArgument: 2
        case .notFound: 3
        case .invalidState: 4
        case .conflict: 5
        case .hypervisor: 6
        case .guest: 7
        case .store: 8
        case .io: 9
        case .timeout: 10
        }
    }
}
