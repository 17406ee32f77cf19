import threading

import pytest

from app.geo import (
    Commune,
    GeocodingError,
    all_communes,
    commune,
    communes_for_postcode,
    communes_in_department,
    department_of,
    departments,
    haversine_km,
    is_known_department,
)


def test_commune_lookup():
    c = commune("01004")
    assert c == Commune(
        insee="01004",
        name="Ambérieu-en-Bugey",
        department="01",
        region="84",
        population=14035,
        lat=45.96104,
        lon=5.37229,
        postcodes=("01500",),
    )
    assert not c.is_arrondissement
    assert commune("99999") is None
    assert commune("1004") is None


def test_commune_is_immutable():
    c = commune("01004")
    assert c is not None
    with pytest.raises(AttributeError):
        c.population = 0  # type: ignore[misc]


def test_arrondissements_and_cities():
    arm = commune("75111")
    assert arm is not None
    assert arm.is_arrondissement
    assert arm.arrondissement_of == "75056"
    assert commune("69381").arrondissement_of == "69123"  # type: ignore[union-attr]
    assert commune("13201").arrondissement_of == "13055"  # type: ignore[union-attr]
    paris = commune("75056")
    assert paris is not None
    assert not paris.is_arrondissement
    assert len(paris.postcodes) == 21  # 75001…75020 and 75116
    assert {"75011", "75116"} <= set(paris.postcodes)


def test_missing_population_is_none():
    assert commune("97611").population is None  # type: ignore[union-attr]
    assert commune("60694").population is None  # type: ignore[union-attr]


def test_department_of():
    assert department_of("01001") == "01"
    assert department_of("2A004") == "2A"
    assert department_of("2B033") == "2B"
    assert department_of("97101") == "971"
    assert department_of("97611") == "976"
    assert department_of("75111") == "75"
    with pytest.raises(GeocodingError) as exc:
        department_of("99999")
    assert exc.value.field == "insee"


def test_known_departments():
    deps = departments()
    assert len(deps) == 101
    for code in ("01", "2A", "2B", "75", "95", "971", "972", "973", "974", "976"):
        assert is_known_department(code)
    for code in ("20", "96", "975", "977", "1", "001", "2a", ""):
        assert not is_known_department(code)


def test_communes_in_department():
    corse_du_sud = communes_in_department("2A")
    assert {c.department for c in corse_du_sud} == {"2A"}
    assert "2A004" in {c.insee for c in corse_du_sud}
    assert communes_in_department("20") == ()
    assert [c.insee for c in communes_in_department("75")] == ["75056"]
    paris_split = communes_in_department("75", arrondissements=True)
    assert len(paris_split) == 20
    assert all(c.is_arrondissement for c in paris_split)
    assert len(communes_in_department("976")) == 17


def test_all_communes_counts_every_inhabitant_once():
    whole = all_communes()
    split = all_communes(arrondissements=True)
    assert len(whole) == 34_912 - 45
    assert len(split) == 34_912 - 3
    assert not any(c.is_arrondissement for c in whole)
    assert {c.insee for c in whole} ^ {c.insee for c in split} == {
        "75056",
        "69123",
        "13055",
        *(c.insee for c in split if c.is_arrondissement),
    }
    assert sum(c.population or 0 for c in whole) == sum(c.population or 0 for c in split)
    assert sum(len(communes_in_department(d)) for d in departments()) == len(whole)


def test_postcode_index():
    assert [c.insee for c in communes_for_postcode("01000")] == ["01053", "01344"]
    assert communes_for_postcode("75011") == (commune("75111"),)
    assert communes_for_postcode("00000") == ()


def test_concurrent_first_use_sees_one_index():
    seen: list[tuple[Commune, ...]] = []

    def worker() -> None:
        seen.append(all_communes())

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(s is seen[0] for s in seen)


def test_haversine_km():
    assert haversine_km(48.85659, 2.34292, 48.85659, 2.34292) == 0.0
    # Paris – Marseille centroids: about 660 km as the crow flies.
    assert haversine_km(48.85659, 2.34292, 43.29160, 5.42057) == pytest.approx(661, abs=5)
    # A quarter of a meridian.
    assert haversine_km(0, 0, 90, 0) == pytest.approx(10_007.5, abs=1)
    assert haversine_km(0, 0, 0, 180) == pytest.approx(20_015.1, abs=1)
    a, b = (16.27275, -61.50174), (-12.79022, 45.19484)
    assert haversine_km(*a, *b) == pytest.approx(haversine_km(*b, *a))
