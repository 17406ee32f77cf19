import math

import pytest

from app.geo import GeocodingError, Place, commune, communes_for_postcode, geocode


def test_geocode_by_insee_uses_commune_centroid():
    place = geocode(insee="01001")
    assert place == Place(
        commune_insee="01001",
        commune_name="Abergement-Clémenciat",
        department="01",
        region="84",
        lat=46.15369,
        lon=4.92592,
    )


def test_codes_are_stripped_of_whitespace():
    assert geocode(insee=" 01001\n").commune_insee == "01001"
    assert geocode(postcode=" 75 011 ").commune_insee == "75111"


def test_geocode_by_single_commune_postcode():
    place = geocode(postcode="38000")
    assert place == geocode(insee="38185")
    assert (place.commune_name, place.lat, place.lon) == ("Grenoble", 45.18229, 5.72114)


def test_geocode_by_shared_postcode_takes_weighted_centroid_and_most_populous():
    place = geocode(postcode="01000")
    # Bourg-en-Bresse (41,527 inhabitants) and Saint-Denis-lès-Bourg (5,747).
    assert place.commune_insee == "01053"
    assert place.commune_name == "Bourg-en-Bresse"
    assert place.department == "01"
    total = 41527 + 5747
    assert place.lat == pytest.approx((46.20503 * 41527 + 46.21106 * 5747) / total)
    assert place.lon == pytest.approx((5.24556 * 41527 + 5.18471 * 5747) / total)


def test_weighted_centroid_matches_reference_data_for_large_postcode():
    served = communes_for_postcode("01400")
    assert len(served) == 10
    total = sum(c.population or 0 for c in served)
    place = geocode(postcode="01400")
    assert place.commune_insee == max(served, key=lambda c: c.population or 0).insee
    assert place.lat == pytest.approx(sum(c.lat * (c.population or 0) for c in served) / total)
    assert place.lon == pytest.approx(sum(c.lon * (c.population or 0) for c in served) / total)


def test_postcode_without_known_population_uses_plain_mean():
    # Mayotte has no population figure in the reference data.
    served = communes_for_postcode("97600")
    assert {c.insee for c in served} == {"97610", "97611"}
    place = geocode(postcode="97600")
    assert place.commune_insee == "97610"  # tie: lowest INSEE code
    assert place.lat == pytest.approx(sum(c.lat for c in served) / 2)
    assert place.lon == pytest.approx(sum(c.lon for c in served) / 2)


def test_insee_and_postcode_agreeing_geocode_to_the_commune():
    place = geocode(insee="01084", postcode="01400")
    assert place.commune_insee == "01084"
    assert (place.lat, place.lon) == (46.18547, 5.02884)


def test_insee_and_postcode_disagreeing_is_a_postcode_error():
    with pytest.raises(GeocodingError, match="does not serve") as exc:
        geocode(insee="01001", postcode="01000")
    assert exc.value.field == "postcode"


def test_insee_with_unknown_postcode_is_a_postcode_error():
    with pytest.raises(GeocodingError, match="unknown postcode") as exc:
        geocode(insee="01001", postcode="00000")
    assert exc.value.field == "postcode"


def test_unknown_insee():
    with pytest.raises(GeocodingError, match="unknown INSEE") as exc:
        geocode(insee="99999")
    assert exc.value.field == "insee"


def test_unknown_postcode():
    with pytest.raises(GeocodingError, match="unknown postcode") as exc:
        geocode(postcode="00001")
    assert exc.value.field == "postcode"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("insee", "1001"),  # no leading zero is added
        ("insee", "010011"),
        ("insee", "2C004"),
        ("insee", "A1001"),
        ("insee", ""),
        ("insee", 1001),
        ("postcode", "1400"),
        ("postcode", "2A004"),
        ("postcode", "75O11"),
        ("postcode", "   "),
    ],
)
def test_malformed_codes(field, value):
    with pytest.raises(GeocodingError, match=r"malformed|must be a string") as exc:
        geocode(**{field: value})
    assert exc.value.field == field


def test_geocoding_error_is_a_value_error():
    with pytest.raises(ValueError, match="insee: "):
        geocode(insee="bad")


def test_a_code_is_required():
    with pytest.raises(GeocodingError, match="required") as exc:
        geocode(lat=48.0, lon=2.0)
    assert exc.value.field == "insee"


def test_lat_lon_override_the_centroid():
    place = geocode(insee="01001", lat=46.2, lon=4.9)
    assert (place.commune_insee, place.lat, place.lon) == ("01001", 46.2, 4.9)
    place = geocode(postcode="01400", lat=-12, lon=45)
    assert (place.commune_insee, place.lat, place.lon) == ("01093", -12.0, 45.0)
    assert isinstance(place.lat, float)


def test_lat_lon_bounds_are_inclusive():
    place = geocode(insee="01001", lat=-90.0, lon=180.0)
    assert (place.lat, place.lon) == (-90.0, 180.0)


@pytest.mark.parametrize(
    ("lat", "lon", "field"),
    [
        (90.0001, 2.0, "lat"),
        (-91, 2.0, "lat"),
        (48.0, 180.5, "lon"),
        (48.0, -181, "lon"),
        (math.nan, 2.0, "lat"),
        (48.0, math.inf, "lon"),
        (True, 2.0, "lat"),
        (48.0, "2.0", "lon"),
    ],
)
def test_lat_lon_out_of_bounds_or_invalid(lat, lon, field):
    with pytest.raises(GeocodingError) as exc:
        geocode(insee="01001", lat=lat, lon=lon)
    assert exc.value.field == field


@pytest.mark.parametrize(("kwargs", "field"), [({"lat": 48.0}, "lon"), ({"lon": 2.0}, "lat")])
def test_lat_lon_both_or_neither(kwargs, field):
    with pytest.raises(GeocodingError, match="together") as exc:
        geocode(insee="01001", **kwargs)
    assert exc.value.field == field


def test_corsica():
    place = geocode(insee="2A004")
    assert (place.commune_name, place.department, place.region) == ("Ajaccio", "2A", "94")
    assert geocode(insee="2a004") == place
    assert geocode(insee="2A004", postcode="20000") == place
    assert geocode(postcode="20000").commune_insee == "2A004"


def test_overseas():
    place = geocode(insee="97101")
    assert (place.commune_name, place.department, place.region) == ("Abymes", "971", "01")
    assert (place.lat, place.lon) == (16.27275, -61.50174)
    assert geocode(postcode="97139").commune_insee == "97101"


def test_paris_whole_city_geocodes_to_city_centroid():
    place = geocode(insee="75056")
    assert (place.commune_insee, place.commune_name) == ("75056", "Paris")
    assert (place.department, place.region) == ("75", "11")
    assert (place.lat, place.lon) == (48.85659, 2.34292)


def test_paris_arrondissement():
    place = geocode(insee="75111")
    assert (place.commune_insee, place.commune_name) == ("75111", "Paris 11e Arrondissement")
    assert (place.lat, place.lon) == (48.85912, 2.37975)


def test_postcode_of_paris_arrondissement_resolves_to_the_arrondissement():
    assert geocode(postcode="75011") == geocode(insee="75111")
    assert geocode(postcode="75116").commune_insee == "75116"
    assert geocode(postcode="69001").commune_insee == "69381"
    assert geocode(postcode="13001").commune_insee == "13201"


def test_city_is_served_by_its_arrondissements_postcodes():
    assert geocode(insee="75056", postcode="75011") == geocode(insee="75056")
    assert geocode(insee="75111", postcode="75011") == geocode(insee="75111")
    with pytest.raises(GeocodingError) as exc:
        geocode(insee="75111", postcode="75012")
    assert exc.value.field == "postcode"
    with pytest.raises(GeocodingError):
        geocode(insee="69123", postcode="75011")


def test_place_is_immutable():
    place = geocode(insee="01001")
    with pytest.raises(AttributeError):
        place.lat = 0.0  # type: ignore[misc]
    assert commune("01001") is not None
