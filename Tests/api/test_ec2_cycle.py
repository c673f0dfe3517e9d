"""A full cycle through the EC2 Query API with unmodified boto3 (and the aws CLI for one waiter), on real guests."""
import os
import subprocess

from conftest import FAST


def tag_dict(tags):
    return {tag["Key"]: tag["Value"] for tag in tags or []}


def test_full_cycle(ec2, boot_snapshot, endpoint, keys):
    # An image from the boot snapshot, then one instance of it.
    image_id = ec2.register_image(
        Name="api-test", Description="from the API test", RootDeviceName="/dev/vda",
        BlockDeviceMappings=[{"DeviceName": "/dev/vda", "Ebs": {"SnapshotId": boot_snapshot}}],
    )["ImageId"]
    assert image_id.startswith("ami-")
    images = ec2.describe_images(ImageIds=[image_id])["Images"]
    assert images[0]["State"] == "available" and images[0]["Name"] == "api-test"
    assert images[0]["BlockDeviceMappings"][0]["Ebs"]["SnapshotId"] == boot_snapshot

    reservation = ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1,
                                    TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "role", "Value": "host"}]}])
    host = reservation["Instances"][0]["InstanceId"]
    assert reservation["Instances"][0]["State"]["Name"] == "pending"
    ec2.get_waiter("instance_running").wait(InstanceIds=[host], WaiterConfig=FAST)

    # A volume, attached to the running instance, snapshotted, waited for.
    volume = ec2.create_volume(Size=1, AvailabilityZone="snaplab",
                               TagSpecifications=[{"ResourceType": "volume", "Tags": [{"Key": "app", "Value": "api"}]}])
    volume_id = volume["VolumeId"]
    assert volume["State"] == "available" and volume["Size"] == 1
    attachment = ec2.attach_volume(VolumeId=volume_id, InstanceId=host, Device="/dev/vdb")
    assert attachment["State"] == "attached" and attachment["Device"] == "/dev/vdb"
    ec2.get_waiter("volume_in_use").wait(VolumeIds=[volume_id], WaiterConfig=FAST)
    described = ec2.describe_volumes(VolumeIds=[volume_id])["Volumes"][0]
    assert described["Attachments"][0]["InstanceId"] == host

    snapshots = []
    for round in range(3):
        snapshot = ec2.create_snapshot(VolumeId=volume_id, Description=f"round {round}",
                                       TagSpecifications=[{"ResourceType": "snapshot", "Tags": [{"Key": "round", "Value": str(round)}]}])
        assert snapshot["State"] == "pending"
        ec2.get_waiter("snapshot_completed").wait(SnapshotIds=[snapshot["SnapshotId"]], WaiterConfig=FAST)
        snapshots.append(snapshot["SnapshotId"])

    # The aws CLI's waiter too, unmodified.
    environment = dict(os.environ, AWS_ACCESS_KEY_ID=keys[0], AWS_SECRET_ACCESS_KEY=keys[1], AWS_DEFAULT_REGION="snaplab")
    subprocess.run(["aws", "ec2", "wait", "snapshot-completed", "--snapshot-ids", snapshots[0], "--endpoint-url", endpoint],
                   check=True, env=environment, timeout=120)

    # Filters and pagination.
    mine = ec2.describe_snapshots(Filters=[{"Name": "volume-id", "Values": [volume_id]}])["Snapshots"]
    assert sorted(s["SnapshotId"] for s in mine) == sorted(snapshots)
    assert all(s["State"] == "completed" and s["Progress"] == "100%" for s in mine)
    tagged = ec2.describe_snapshots(Filters=[{"Name": "tag:round", "Values": ["1"]}])["Snapshots"]
    assert [s["SnapshotId"] for s in tagged] == [snapshots[1]]
    wildcard = ec2.describe_snapshots(Filters=[{"Name": "description", "Values": ["round *"]},
                                               {"Name": "status", "Values": ["completed"]}])["Snapshots"]
    assert len(wildcard) == 3
    pages = list(ec2.get_paginator("describe_snapshots").paginate(
        Filters=[{"Name": "volume-id", "Values": [volume_id]}], PaginationConfig={"PageSize": 2}))
    assert [len(page["Snapshots"]) for page in pages] == [2, 1]
    first = ec2.describe_snapshots(MaxResults=1, Filters=[{"Name": "volume-id", "Values": [volume_id]}])
    assert len(first["Snapshots"]) == 1 and "NextToken" in first
    assert ec2.describe_volumes(Filters=[{"Name": "tag-key", "Values": ["app"]}])["Volumes"][0]["VolumeId"] == volume_id
    assert ec2.describe_volumes(Filters=[{"Name": "attachment.instance-id", "Values": [host]}])["Volumes"]

    # Two instances of the image, tagged, found by tag, terminated.
    pair = ec2.run_instances(ImageId=image_id, MinCount=2, MaxCount=2)["Instances"]
    pair_ids = [instance["InstanceId"] for instance in pair]
    assert len(pair_ids) == 2
    ec2.get_waiter("instance_running").wait(InstanceIds=pair_ids, WaiterConfig=FAST)
    ec2.create_tags(Resources=pair_ids, Tags=[{"Key": "env", "Value": "api-test"}])
    found = ec2.describe_instances(Filters=[{"Name": "tag:env", "Values": ["api-test"]},
                                            {"Name": "instance-state-name", "Values": ["running"]}])
    assert sorted(i["InstanceId"] for r in found["Reservations"] for i in r["Instances"]) == sorted(pair_ids)
    tags = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [pair_ids[0]]}])["Tags"]
    assert {(t["Key"], t["Value"], t["ResourceType"]) for t in tags} == {("env", "api-test", "instance")}
    ec2.delete_tags(Resources=[pair_ids[0]], Tags=[{"Key": "env"}])
    assert not ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [pair_ids[0]]}])["Tags"]

    terminated = ec2.terminate_instances(InstanceIds=pair_ids)["TerminatingInstances"]
    assert {t["PreviousState"]["Name"] for t in terminated} == {"running"}
    ec2.get_waiter("instance_terminated").wait(InstanceIds=pair_ids, WaiterConfig=FAST)

    # Detach and clean up what is left.
    ec2.detach_volume(VolumeId=volume_id, InstanceId=host)
    ec2.get_waiter("volume_available").wait(VolumeIds=[volume_id], WaiterConfig=FAST)
    ec2.terminate_instances(InstanceIds=[host])
    ec2.get_waiter("instance_terminated").wait(InstanceIds=[host], WaiterConfig=FAST)
    for snapshot_id in snapshots:
        ec2.delete_snapshot(SnapshotId=snapshot_id)
    ec2.delete_volume(VolumeId=volume_id)
    assert ec2.deregister_image(ImageId=image_id)["Return"] is True
