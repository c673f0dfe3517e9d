extension Duration {
    /// The duration in seconds, as a floating-point number (for timings and `Date` arithmetic).
    public var inSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
