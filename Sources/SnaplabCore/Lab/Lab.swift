import Foundation

/// The controller: every front end (CLI, API, daemon) holds this one object and drives the lab through its
/// services. Each service owns its part and receives what it depends on in its initialiser; the order below is
/// the dependency order (a service only uses those above it).
public final class Lab: Sendable {
    public let paths: LabPaths
    public let catalog: Catalog
    /// The host new resources go to unless told otherwise.
    public let defaultHostName = HostService.defaultName

    public let background: BackgroundWork
    public let hosts: HostService
    public let store: StoreService
    public let tags: TagService
    let states: InstanceStates
    let tracking: ChangeTracking
    let copies: SnapshotCopies
    let bases: BaseService
    public let volumes: VolumeService
    public let instances: InstanceService
    public let snapshots: SnapshotService
    public let images: ImageService
    public let policies: PolicyService
    public let lazy: LazyVolumes

    public init(paths: LabPaths, background: BackgroundWork = BackgroundWork()) throws(SnaplabError) {
        self.paths = paths
        try Directories.create(paths.stateDirectory)
        try Directories.create(paths.consoles)
        try Directories.create(paths.bootArtifacts)
        let catalog = try Catalog(path: paths.catalog.path)
        self.catalog = catalog
        self.background = background
        hosts = HostService(catalog: catalog, paths: paths)
        store = StoreService(catalog: catalog, paths: paths)
        tags = TagService(catalog: catalog)
        states = InstanceStates(catalog: catalog, hosts: hosts)
        tracking = ChangeTracking(catalog: catalog, states: states)
        copies = SnapshotCopies(
            catalog: catalog, paths: paths, hosts: hosts, store: store, tracking: tracking, background: background)
        bases = BaseService(catalog: catalog, paths: paths, hosts: hosts, store: store)
        volumes = VolumeService(catalog: catalog, paths: paths, hosts: hosts, copies: copies, bases: bases)
        lazy = LazyVolumes(catalog: catalog, paths: paths, hosts: hosts, volumes: volumes, bases: bases)
        instances = InstanceService(
            catalog: catalog, paths: paths, hosts: hosts, states: states, tracking: tracking,
            copies: copies, bases: bases, lazy: lazy, background: background)
        snapshots = SnapshotService(
            catalog: catalog, paths: paths, hosts: hosts, store: store, states: states,
            tracking: tracking, copies: copies, volumes: volumes)
        images = ImageService(
            catalog: catalog, hosts: hosts, store: store, snapshots: snapshots, instances: instances,
            volumes: volumes, bases: bases, lazy: lazy, background: background)
        policies = PolicyService(
            catalog: catalog, hosts: hosts, snapshots: snapshots, instances: instances,
            volumes: volumes, images: images, bases: bases, copies: copies)
    }

    /// Opens the lab and settles what a previous process left unfinished (snapshots whose copy died, volumes
    /// and bases whose restore died).
    public static func open(paths: LabPaths, background: BackgroundWork = BackgroundWork()) async throws(SnaplabError)
        -> Lab
    {
        let lab = try Lab(paths: paths, background: background)
        try await lab.recoverInterrupted()
        return lab
    }

    /// Marks `error` the pending snapshots whose copying process is gone, removes the volumes and bases a
    /// killed restore or hydration left, and settles the images whose snapshots are all settled.
    public func recoverInterrupted() async throws(SnaplabError) {
        try await copies.recoverInterrupted()
        try await volumes.recoverInterruptedRestores()
        try await bases.recoverInterruptedHydrations()
        try await images.recoverPending()
    }
}
