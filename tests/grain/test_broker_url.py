"""MQTT broker URLs: credentials and TLS are honoured, anything else is a clear error (it used to fall back
to the local broker silently)."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from smartgov.grain import mqtt


def test_urls_with_credentials_and_tls():
    b = mqtt.parse_broker_url("mqtts://depot-k01:s%40cret@broker.example:8884")
    assert (b.host, b.port, b.tls, b.username, b.password) == ("broker.example", 8884, True, "depot-k01", "s@cret")
    assert mqtt.parse_broker_url("mqtts://broker.example").port == 8883
    assert mqtt.parse_broker_url("mqtt://10.0.0.5:1883") == mqtt.Broker("10.0.0.5", 1883)


def test_password_from_settings_when_not_in_the_url(settings):
    settings.MQTT_PASSWORD = "from-a-file"
    assert mqtt.parse_broker_url("mqtt://worker@127.0.0.1").password == "from-a-file"


@pytest.mark.parametrize("url", ["10.0.0.5:1883", "garbage", "http://127.0.0.1:1883", "mqtt://", "mqtt://h:99999",
                                 "mqtt://h:1883/path"])
def test_invalid_urls_are_clear_errors(url):
    with pytest.raises(ValueError, match="MQTT"):
        mqtt.broker_address(url)


def test_the_command_refuses_a_garbage_url():
    with pytest.raises(CommandError, match="MQTT"):
        call_command("grain", "ingest", "--url", "garbage", stdout=io.StringIO())
