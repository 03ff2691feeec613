"""A write's timestamp: ISO 8601 with a zone or UTC epoch seconds, stored in UTC."""

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from converge_graph.models import CollectEvent, WebhookEvent


@pytest.mark.parametrize("model", [WebhookEvent, CollectEvent])
def test_an_iso_timestamp_with_a_zone_is_read_and_converted_to_utc(model):
    event = model.model_validate({"method": "set", "timestamp": "2024-01-01T01:00:00+02:00"})
    assert event.timestamp == datetime(2023, 12, 31, 23, 0, tzinfo=UTC)


@pytest.mark.parametrize("model", [WebhookEvent, CollectEvent])
def test_a_number_is_read_as_utc_epoch_seconds(model):
    event = model.model_validate({"method": "set", "timestamp": 1700000000})
    assert event.timestamp == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)


def test_a_timestamp_without_a_zone_is_refused():
    with pytest.raises(ValidationError):
        WebhookEvent.model_validate({"method": "set", "timestamp": "2024-01-01T01:00:00"})
