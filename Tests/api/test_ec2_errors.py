"""EC2's error codes where EC2 returns them, parsed by botocore as ClientErrors."""
import pytest
from botocore.exceptions import ClientError

from conftest import FAST


def code_of(call, **arguments):
    with pytest.raises(ClientError) as raised:
        call(**arguments)
    return raised.value.response["Error"]["Code"]


def test_not_found_and_malformed(ec2):
    assert code_of(ec2.describe_volumes, VolumeIds=["vol-0000000000000dead"]) == "InvalidVolume.NotFound"
    assert code_of(ec2.delete_volume, VolumeId="vol-0000000000000dead") == "InvalidVolume.NotFound"
    assert code_of(ec2.describe_snapshots, SnapshotIds=["snap-0000000000000dead"]) == "InvalidSnapshot.NotFound"
    assert code_of(ec2.delete_snapshot, SnapshotId="snap-0000000000000dead") == "InvalidSnapshot.NotFound"
    assert code_of(ec2.describe_images, ImageIds=["ami-0000000000000dead"]) == "InvalidAMIID.NotFound"
    assert code_of(ec2.run_instances, ImageId="ami-0000000000000dead", MinCount=1, MaxCount=1) == "InvalidAMIID.NotFound"
    assert code_of(ec2.describe_instances, InstanceIds=["i-0000000000000dead"]) == "InvalidInstanceID.NotFound"
    assert code_of(ec2.terminate_instances, InstanceIds=["i-0000000000000dead"]) == "InvalidInstanceID.NotFound"
    assert code_of(ec2.describe_volumes, VolumeIds=["vol-nothex"]) == "InvalidVolumeID.Malformed"
    assert code_of(ec2.describe_instances, InstanceIds=["i-bad"]) == "InvalidInstanceID.Malformed"
    assert code_of(ec2.describe_volumes, Filters=[{"Name": "no-such-filter", "Values": ["x"]}]) == "InvalidParameterValue"


def test_in_use_and_state_errors(ec2, boot_snapshot):
    image_id = ec2.register_image(Name="errors", RootDeviceName="/dev/vda",
                                  BlockDeviceMappings=[{"DeviceName": "/dev/vda", "Ebs": {"SnapshotId": boot_snapshot}}])["ImageId"]
    # The image needs its snapshot.
    assert code_of(ec2.delete_snapshot, SnapshotId=boot_snapshot) == "InvalidSnapshot.InUse"

    instance = ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    ec2.get_waiter("instance_running").wait(InstanceIds=[instance], WaiterConfig=FAST)
    volume = ec2.create_volume(Size=1, AvailabilityZone="snaplab")["VolumeId"]
    # Not attached: detaching is the wrong state.
    assert code_of(ec2.detach_volume, VolumeId=volume) == "IncorrectState"
    ec2.attach_volume(VolumeId=volume, InstanceId=instance, Device="/dev/vdb")
    assert code_of(ec2.delete_volume, VolumeId=volume) == "VolumeInUse"
    assert code_of(ec2.attach_volume, VolumeId=volume, InstanceId=instance, Device="/dev/vdc") == "VolumeInUse"

    ec2.terminate_instances(InstanceIds=[instance])
    ec2.get_waiter("instance_terminated").wait(InstanceIds=[instance], WaiterConfig=FAST)
    assert code_of(ec2.start_instances, InstanceIds=[instance]) == "IncorrectInstanceState"
    other = ec2.create_volume(Size=1, AvailabilityZone="snaplab")["VolumeId"]
    assert code_of(ec2.attach_volume, VolumeId=other, InstanceId=instance, Device="/dev/vdb") == "IncorrectInstanceState"

    # After deregistering, the snapshot is free again (this test's image only).
    ec2.deregister_image(ImageId=image_id)
    for volume_id in (volume, other):
        ec2.delete_volume(VolumeId=volume_id)


def test_missing_parameter_and_bad_action(ec2, endpoint, keys):
    assert code_of(ec2.create_snapshot, VolumeId="") in ("MissingParameter", "InvalidParameterValue")
    assert code_of(ec2.create_volume, AvailabilityZone="snaplab") == "MissingParameter"
    assert code_of(ec2.run_instances, ImageId="ami-0000000000000dead", MinCount=2, MaxCount=1) == "InvalidParameterValue"
