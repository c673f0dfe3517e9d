import SnaplabCore
import Testing

@Suite struct BootMarkerTests {
    @Test func parsesMarkersAmongConsoleNoise() {
        let console = """
            [    0.000000] Linux version 6.1.0
            SNAPLAB-MARK initramfs t=1.74
            SNAPLAB-MARK fsck-start t=2.29 mode=force
            e2fsck 1.47.0 (5-Feb-2023)
            SNAPLAB-MARK fsck-end t=2.41 rc=1 mode=force
            garbage SNAPLAB-MARK broken
            SNAPLAB-MARK ready t=6.98\r
            """
        let markers = BootMarker.all(in: console)
        #expect(markers.map(\.phase) == ["initramfs", "fsck-start", "fsck-end", "ready"])
        #expect(markers[2].fields == ["rc": "1", "mode": "force"])
        #expect(markers[2].uptime == 2.41)
        #expect(markers[3].uptime == 6.98)
    }
}
