"""SigV4: the server checks signatures as AWS does. Signed with a wrong secret, dated long ago, or with a body
changed after signing, a request is refused with EC2's auth errors."""
import datetime
import hashlib
import hmac
import urllib.error
import urllib.parse
import urllib.request

BODY = urllib.parse.urlencode({"Action": "DescribeVolumes", "Version": "2016-11-15"})


def sign(endpoint, key_id, secret, body, when, sent_body=None):
    host = urllib.parse.urlparse(endpoint).netloc
    amz_date = when.strftime("%Y%m%dT%H%M%SZ")
    day = when.strftime("%Y%m%d")
    content_type = "application/x-www-form-urlencoded; charset=utf-8"
    canonical = "\n".join([
        "POST", "/", "", f"content-type:{content_type}\nhost:{host}\nx-amz-date:{amz_date}\n",
        "content-type;host;x-amz-date", hashlib.sha256(body.encode()).hexdigest()])
    scope = f"{day}/snaplab/ec2/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + secret).encode()
    for part in (day, "snaplab", "ec2", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    request = urllib.request.Request(endpoint + "/", data=(sent_body or body).encode(), method="POST", headers={
        "Content-Type": content_type, "X-Amz-Date": amz_date,
        "Authorization": f"AWS4-HMAC-SHA256 Credential={key_id}/{scope}, SignedHeaders=content-type;host;x-amz-date, Signature={signature}",
    })
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def now():
    return datetime.datetime.now(datetime.timezone.utc)


def test_a_correct_signature_is_accepted(endpoint, keys):
    status, body = sign(endpoint, keys[0], keys[1], BODY, now())
    assert status == 200 and "<DescribeVolumesResponse" in body


def test_wrong_secret(endpoint, keys):
    status, body = sign(endpoint, keys[0], keys[1] + "x", BODY, now())
    assert status in (401, 403) and "<Code>SignatureDoesNotMatch</Code>" in body


def test_unknown_key(endpoint, keys):
    status, body = sign(endpoint, "AKIANOTAREALKEY00000", keys[1], BODY, now())
    assert "<Code>AuthFailure</Code>" in body


def test_stale_date(endpoint, keys):
    status, body = sign(endpoint, keys[0], keys[1], BODY, now() - datetime.timedelta(hours=1))
    assert "<Code>RequestExpired</Code>" in body


def test_tampered_body(endpoint, keys):
    tampered = urllib.parse.urlencode({"Action": "DeleteVolume", "Version": "2016-11-15", "VolumeId": "vol-0000000000000dead"})
    status, body = sign(endpoint, keys[0], keys[1], BODY, now(), sent_body=tampered)
    assert "<Code>SignatureDoesNotMatch</Code>" in body


def test_unsigned(endpoint):
    request = urllib.request.Request(endpoint + "/", data=BODY.encode(), method="POST",
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    try:
        urllib.request.urlopen(request)
        assert False, "an unsigned request was accepted"
    except urllib.error.HTTPError as error:
        assert "<Code>MissingAuthenticationToken</Code>" in error.read().decode()
