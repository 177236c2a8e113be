"""The phones page: an officer ends a lost phone's API access from the web; the SP office sees
its district's phones; nobody else's phone can be ended."""

from cplan.services.geo import district_of


def test_an_officer_ends_a_lost_phone_s_access_from_the_web(
    db, client, login_as, api_as, api_world, make_officer
):
    phone = api_as(api_world["constable"])
    login_as(api_world["constable"])
    page = client.get("/devices/")
    assert page.status_code == 200 and "test phone" in page.get_data(as_text=True)
    ended = client.post(f"/devices/{phone.device.id}/revoke", follow_redirects=True)
    assert "can no longer use the API" in ended.get_data(as_text=True)
    assert phone.get("/api/v1/devices").status_code == 401


def test_only_the_officer_and_their_sp_office_see_or_end_a_phone(
    db, client, login_as, api_as, api_world, make_officer
):
    phone = api_as(api_world["constable"])
    login_as(api_world["kotwali_so"])
    assert "test phone" not in client.get("/devices/").get_data(as_text=True)
    assert client.post(f"/devices/{phone.device.id}/revoke").status_code == 404
    login_as(make_officer("sp_office", district_of(api_world["baraut"])))
    assert "test phone" in client.get("/devices/").get_data(as_text=True)
