import SnaplabCore
import Testing

@Suite struct InstanceStateTests {
    @Test func ec2Lifecycle() {
        let path: [InstanceState] = [
            .pending, .running, .stopping, .stopped, .pending, .running, .shuttingDown,
            .terminated,
        ]
        for (from, to) in zip(path, path.dropFirst()) {
            #expect(from.canMove(to: to), "\(from) → \(to)")
        }
    }

    @Test func forbiddenMoves() {
        #expect(!InstanceState.terminated.canMove(to: .pending))
        #expect(!InstanceState.terminated.canMove(to: .running))
        #expect(!InstanceState.running.canMove(to: .terminated))
        #expect(!InstanceState.stopped.canMove(to: .stopping))
        #expect(!InstanceState.running.canMove(to: .pending))
    }
}
