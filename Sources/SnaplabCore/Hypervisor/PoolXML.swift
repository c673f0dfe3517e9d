/// A libvirt `dir` storage pool definition.
struct PoolXML {
    var name: String
    var path: String

    func render() -> String {
        """
        <pool type='dir'>
          <name>\(XMLText.escape(name))</name>
          <target>
            <path>\(XMLText.escape(path))</path>
            <permissions><mode>0755</mode></permissions>
          </target>
        </pool>
        """
    }
}
