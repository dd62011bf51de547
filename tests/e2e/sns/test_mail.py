"""email and email-json: the local mailbox that `cloudlet mail` shows, confirmation included."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.parse
import urllib.request

from harness import REPO, unique


def mail(cloudlet, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cloudlet", "mail", "--port", str(cloudlet.port),
                           *args], capture_output=True, text=True, cwd=REPO, timeout=60)


def messages(cloudlet, to: str) -> list[dict]:
    """The mailbox as `cloudlet mail --json` reads it (the same route, without a process
    per poll)."""
    return cloudlet.control("GET", "/_cloudlet/sns/mail", query={"to": to}).json()["messages"]


def test_email_subscription_confirmed_from_the_mailbox_then_notified(cloudlet, sns, wait_for):
    address = f"{unique('ops')}@example.com"
    topic = sns.create_topic(Name=unique("mail"), Attributes={"DisplayName": "Ops"})["TopicArn"]
    assert sns.subscribe(TopicArn=topic, Protocol="email",
                         Endpoint=address)["SubscriptionArn"] == "pending confirmation"
    [confirmation] = wait_for(lambda: messages(cloudlet, address))
    assert confirmation["subject"] == "AWS Notification - Subscription Confirmation"
    assert confirmation["to"] == address and "Ops" in confirmation["from"]
    link = re.search(r"http://\S+Action=ConfirmSubscription\S+", confirmation["body"]).group(0)
    sns.publish(TopicArn=topic, Message="not yet")
    with urllib.request.urlopen(link, timeout=5) as reply:  # clicking the link
        assert reply.status == 200
    [sub] = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert sub["SubscriptionArn"].startswith(topic + ":")

    sns.publish(TopicArn=topic, Message="Disk is 91% full", Subject="Disk alert")
    found = wait_for(lambda: [m for m in messages(cloudlet, address) if m["subject"] == "Disk alert"])
    assert found[0]["body"].startswith("Disk is 91% full")
    assert "Action=Unsubscribe" in found[0]["body"]
    assert not [m for m in messages(cloudlet, address) if "not yet" in m["body"]]

    as_json = mail(cloudlet, "--to", address, "--json")
    assert json.loads(as_json.stdout) == messages(cloudlet, address)
    text = mail(cloudlet, "--to", address)
    assert text.returncode == 0
    assert "Subject: Disk alert" in text.stdout and "Disk is 91% full" in text.stdout
    assert f"To: {address}" in text.stdout


def test_email_json_gets_the_json_envelope(cloudlet, sns, wait_for):
    address = f"{unique('json')}@example.com"
    topic = sns.create_topic(Name=unique("mailjson"))["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="email-json", Endpoint=address)
    [confirmation] = wait_for(lambda: messages(cloudlet, address))
    body = json.loads(confirmation["body"])
    assert body["Type"] == "SubscriptionConfirmation"
    sns.confirm_subscription(TopicArn=topic, Token=body["Token"])
    sns.publish(TopicArn=topic, Message="as json", Subject="J")
    found = wait_for(lambda: [m for m in messages(cloudlet, address) if m["subject"] == "J"])
    envelope = json.loads(found[0]["body"])
    assert (envelope["Type"], envelope["Message"], envelope["TopicArn"]) == (
        "Notification", "as json", topic)


def test_sms_goes_to_the_outbox(cloudlet, sns, wait_for):
    number = "+1555" + unique("")[-7:].translate(str.maketrans("abcdef", "123456"))
    sns.publish(PhoneNumber=number, Message="Your code is 123456")
    [text] = wait_for(lambda: messages(cloudlet, number))
    assert text["protocol"] == "sms" and text["body"].strip() == "Your code is 123456"


def test_mail_when_nothing_runs():
    from harness import free_port

    out = subprocess.run([sys.executable, "-m", "cloudlet", "mail", "--port", str(free_port())],
                         capture_output=True, text=True, cwd=REPO, timeout=60)
    assert out.returncode == 1 and "did not answer" in out.stderr


def test_the_mailbox_shows_only_the_callers_account(cloudlet, wait_for):
    other = "210987654321"
    theirs = cloudlet.client("sns", aws_access_key_id=other)
    address = f"{unique('private')}@example.com"
    phone = "+1555" + unique("")[-7:].translate(str.maketrans("abcdef", "123456"))
    topic = theirs.create_topic(Name=unique("private"))["TopicArn"]
    theirs.subscribe(TopicArn=topic, Protocol="email", Endpoint=address)
    theirs.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=f"arn:aws:sqs:us-east-1:{other}:q")
    theirs.publish(PhoneNumber=phone, Message="your code is 1234")
    theirs.publish(TopicArn=topic, Message="private")

    def mailbox(key: str, **query) -> list[dict]:
        reply = cloudlet.control("GET", "/_cloudlet/sns/mail", key=key, query=query)
        assert reply.status_code == 200
        return reply.json()["messages"]

    def deliveries(key: str) -> list[dict]:
        reply = cloudlet.control("GET", "/_cloudlet/sns/deliveries", key=key)
        return [d for d in reply.json()["deliveries"] if d["topic_arn"] == topic]

    assert wait_for(lambda: mailbox(other, to=address))
    assert wait_for(lambda: mailbox(other, to=phone))
    assert wait_for(lambda: deliveries(other))
    assert mailbox("test", to=address) == [] and mailbox("test", to=phone) == []
    assert not [m for m in mailbox("test") if m["to"] in (address, phone)]
    assert deliveries("test") == []
    shown = subprocess.run([sys.executable, "-m", "cloudlet", "mail", "--port", str(cloudlet.port),
                            "--to", address, "--json"], capture_output=True, text=True, cwd=REPO,
                           timeout=60, env={**os.environ, "AWS_ACCESS_KEY_ID": other,
                                            "AWS_SECRET_ACCESS_KEY": "test"})
    assert [m["to"] for m in json.loads(shown.stdout)] == [address]
