import Testing

/// Every suite that boots TCG guests nests here: serialized as a whole, since two cores boot one guest at a
/// time well and several badly.
@Suite(.serialized, .timeLimit(.minutes(30)))
enum RealGuestTests {}
