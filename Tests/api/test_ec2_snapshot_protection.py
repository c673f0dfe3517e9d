"""EBS snapshot lock and Recycle Bin through boto3. The Swift side made a bin rule for snapshots tagged bin=yes."""
from conftest import FAST
from test_ec2_errors import code_of


def test_lock_unlock_and_recycle_bin(ec2):
    volume_id = ec2.create_volume(Size=1, AvailabilityZone="snaplab")["VolumeId"]
    snapshot = ec2.create_snapshot(
        VolumeId=volume_id,
        TagSpecifications=[{"ResourceType": "snapshot", "Tags": [{"Key": "bin", "Value": "yes"}]}])["SnapshotId"]
    ec2.get_waiter("snapshot_completed").wait(SnapshotIds=[snapshot], WaiterConfig=FAST)

    locked = ec2.lock_snapshot(SnapshotId=snapshot, LockMode="governance", LockDuration=1)
    assert locked["LockState"] == "governance" and locked["LockDuration"] == 1
    assert locked["LockExpiresOn"] > locked["LockCreatedOn"]
    assert code_of(ec2.delete_snapshot, SnapshotId=snapshot) == "IncorrectState"
    described = ec2.describe_locked_snapshots(SnapshotIds=[snapshot])["Snapshots"]
    assert [(s["SnapshotId"], s["LockState"]) for s in described] == [(snapshot, "governance")]
    assert ec2.describe_locked_snapshots(Filters=[{"Name": "lock-state", "Values": ["compliance"]}])["Snapshots"] == []

    cooling = ec2.lock_snapshot(SnapshotId=snapshot, LockMode="compliance", LockDuration=2, CoolOffPeriod=1)
    assert cooling["LockState"] == "compliance-cooloff" and cooling["CoolOffPeriod"] == 1
    assert code_of(ec2.lock_snapshot, SnapshotId=snapshot, LockMode="governance") == "InvalidParameterCombination"
    ec2.unlock_snapshot(SnapshotId=snapshot)
    assert ec2.describe_locked_snapshots(SnapshotIds=[snapshot])["Snapshots"] == []

    ec2.delete_snapshot(SnapshotId=snapshot)
    assert code_of(ec2.describe_snapshots, SnapshotIds=[snapshot]) == "InvalidSnapshot.NotFound"
    binned = ec2.list_snapshots_in_recycle_bin()["Snapshots"]
    assert [(s["SnapshotId"], s["VolumeId"]) for s in binned] == [(snapshot, volume_id)]
    assert binned[0]["RecycleBinExitTime"] > binned[0]["RecycleBinEnterTime"]

    restored = ec2.restore_snapshot_from_recycle_bin(SnapshotId=snapshot)
    assert restored["SnapshotId"] == snapshot and restored["State"] == "completed"
    assert ec2.describe_snapshots(SnapshotIds=[snapshot])["Snapshots"][0]["State"] == "completed"
    assert ec2.list_snapshots_in_recycle_bin()["Snapshots"] == []
    assert code_of(ec2.restore_snapshot_from_recycle_bin, SnapshotId=snapshot) == "InvalidSnapshot.NotFound"
    ec2.delete_volume(VolumeId=volume_id)


def test_encryption_by_default_says_what_the_store_is(ec2):
    assert ec2.get_ebs_encryption_by_default()["EbsEncryptionByDefault"] is False
    assert ec2.disable_ebs_encryption_by_default()["EbsEncryptionByDefault"] is False
    assert code_of(ec2.enable_ebs_encryption_by_default) == "UnsupportedOperation"
