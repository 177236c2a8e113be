"""The API's description: the OpenAPI 3.1 document and its page, served by the app itself."""

from cplan.web.security import CONTENT_SECURITY_POLICY


def test_the_openapi_document_is_version_3_1_and_public(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    assert spec["openapi"] == "3.1.0"
    assert spec["info"]["version"] == "v1"
    assert spec["components"]["securitySchemes"]["deviceToken"]["scheme"] == "bearer"


def test_the_docs_page_lists_operations_without_scripts_or_other_sites(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "openapi.json" in page
    assert "<script" not in page
    # Nothing is fetched from another site (an inline SVG's namespace name is not an address).
    page_without_svg_namespace = page.replace("http://www.w3.org/2000/svg", "")
    assert "http://" not in page_without_svg_namespace and "https://" not in page
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY


def test_an_unknown_api_url_answers_problem_json(client):
    response = client.get("/api/v1/nothing-here", headers={"Accept-Language": "hi"})
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == 404 and body["type"] == "about:blank"
    assert body["title"] != "We could not find that page or record."
