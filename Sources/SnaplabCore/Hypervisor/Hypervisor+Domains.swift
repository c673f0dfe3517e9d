import Libvirt

extension Hypervisor {
    /// Defines (persistently) and starts a domain.
    public func defineAndStart(xml: String, name: String) async throws(SnaplabError) {
        try await call("starting domain \(name)") { connection in
            let domain = try connection.defineDomain(xml: xml)
            try domain.start()
        }
    }

    /// Defines (persistently) a domain without starting it.
    public func defineDomain(xml: String, name: String) async throws(SnaplabError) {
        try await call("defining domain \(name)") { connection in _ = try connection.defineDomain(xml: xml) }
    }

    public func startDomain(name: String) async throws(SnaplabError) {
        try await call("starting domain \(name)") { try $0.lookupDomain(name: name).start() }
    }

    /// Asks the guest to power off (guest agent, else ACPI); returns at once.
    public func requestShutdown(name: String) async throws(SnaplabError) {
        try await call("shutting down domain \(name)") { try $0.lookupDomain(name: name).shutdown() }
    }

    /// Pulls the plug if the domain runs; a domain that is missing or already off is fine.
    public func destroyDomain(name: String) async throws(SnaplabError) {
        try await call("destroying domain \(name)") { connection in
            guard let domain = try connection.findDomain(name: name), try domain.isActive() else { return }
            try domain.destroy()
        }
    }

    /// Removes the definition; a domain libvirt no longer knows is fine.
    public func undefineDomain(name: String) async throws(SnaplabError) {
        try await call("undefining domain \(name)") { connection in
            try connection.findDomain(name: name)?.undefine()
        }
    }

    /// The domain's state, or nil when libvirt knows no such domain.
    public func domainState(name: String) async throws(SnaplabError) -> DomainState? {
        try await call("reading state of domain \(name)") { connection in
            try connection.findDomain(name: name)?.state()
        }
    }

    public func domainXML(name: String) async throws(SnaplabError) -> String {
        try await call("reading domain \(name)") { try $0.lookupDomain(name: name).xml() }
    }

    /// One raw guest-agent command (JSON in, JSON out).
    public func agentCommand(domain name: String, json: String, timeoutSeconds: Int32) async throws(SnaplabError)
        -> String
    {
        try await call("guest agent command on \(name)") { connection in
            try connection.lookupDomain(name: name).agentCommand(json, timeoutSeconds: timeoutSeconds)
        }
    }

    /// Adds a disk to the domain's definition and, when `live`, hot-plugs it.
    func attachDisk(domain name: String, xml: String, live: Bool) async throws(SnaplabError) {
        try await call("attaching a disk to \(name)") { connection in
            try connection.lookupDomain(name: name).attachDevice(xml: xml, live: live, persistent: true)
        }
    }

    /// Removes a disk from the definition and, when `live`, unplugs it and waits (up to a minute, or not at all
    /// with `force`) until the guest has let go of it.
    func detachDisk(domain name: String, xml: String, device: String, live: Bool, force: Bool)
        async throws(SnaplabError)
    {
        try await call("detaching \(device) from \(name)") { connection in
            try connection.lookupDomain(name: name).detachDevice(xml: xml, live: live, persistent: true)
        }
        guard live, !force else { return }
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            let current = try await domainXML(name: name)
            if !current.contains("dev='\(device)'") { return }
            try? await Task.sleep(for: .milliseconds(200))
        }
        throw SnaplabError(
            .timeout,
            "the guest of \(name) did not release \(device) within a minute; unmount it in the guest, or detach with force"
        )
    }
}
