"""What the benchmarks' setup scripts share (stdlib only): calling the API,
USCC codes with their check character, users, and the service centre,
enterprises and forest credits they set up."""
import json
import urllib.error
import urllib.request

PASSWORD = "bench password 0123"
FOREST = {
    "area_ha": "100000", "volume_m3_per_ha_start": "20", "volume_m3_per_ha_end": "50",
    "wood_density": "0.5", "bef": "1.5", "root_shoot_ratio": "0.25", "carbon_fraction": "0.5"}


class Api:
    def __init__(self, url):
        self.url = url

    def call(self, method, path, token=None, body=None, expect=(200, 201)):
        req = urllib.request.Request(self.url + path, method=method)
        req.add_header("content-type", "application/json")
        if token:
            req.add_header("authorization", "Bearer " + token)
        data = None if body is None else json.dumps(body).encode()
        try:
            with urllib.request.urlopen(req, data) as res:
                status, text = res.status, res.read()
        except urllib.error.HTTPError as e:
            status, text = e.code, e.read()
        if status not in expect:
            raise SystemExit(f"{method} {path}: {status} {text.decode()}")
        return json.loads(text) if text else None

    def user(self, email):
        self.call("POST", "/api/v1/auth/register", body={"email": email, "password": PASSWORD})
        return self.call("POST", "/api/v1/auth/login",
                         body={"login": email, "password": PASSWORD})["access_token"]

    def service_centre(self, admin):
        """The administrator as the service centre's verifier."""
        me = self.call("GET", "/api/v1/me", admin)
        centre = self.call("POST", "/api/v1/organizations", admin,
                           {"kind": "service_centre", "name": "碳中和服务中心", "uscc": uscc(1)})
        self.call("POST", f"/api/v1/organizations/{centre['id']}/roles", admin,
                  {"user_id": me["id"], "role": "verifier"})
        return me

    def enterprises(self, admin, n, prefix):
        """N approved enterprises: (token, account id, organisation id)."""
        out = []
        for i in range(n):
            token = self.user(f"{prefix}{i}@bench.cn")
            org = self.call("POST", "/api/v1/organizations", token,
                            {"kind": "enterprise", "name": f"企业{i}", "uscc": uscc(100 + i)})
            org = self.call("POST", f"/api/v1/organizations/{org['id']}/approve", admin, {})
            out.append((token, org["account_id"], org["id"]))
        return out

    def forest_project(self, admin, owner, start_year, end_year, parcel):
        """An approved 100,000 ha afforestation project of the enterprise."""
        token, _, org = owner
        project = self.call("POST", "/api/v1/projects", token, {
            "organization_id": org, "name": "bench forest", "kind": "afforestation",
            "methodology": "ccer-14-001-v01", "methodology_version": 1, "region_code": "620100",
            "location": {"parcels": [{"id": parcel, "area_ha": "100000"}]},
            "crediting_start": f"{start_year}-01-01", "crediting_end": f"{end_year}-12-31"})
        self.call("POST", f"/api/v1/projects/{project['id']}/submit", token)
        self.call("POST", f"/api/v1/projects/{project['id']}/decision", admin,
                  {"decision": "approve"})
        return project["id"]

    def issue(self, admin, owner, project, year):
        """The project's report of `year`, verified as claimed and issued."""
        report = self.call("POST", f"/api/v1/projects/{project}/reports", owner[0], {
            "period_start": f"{year}-01-01", "period_end": f"{year}-12-31",
            "activity": {"calculator": "forest", "request": FOREST}})
        self.call("POST", f"/api/v1/reports/{report['id']}/verification", admin,
                  {"verdict": "accept"})
        return self.call("POST", f"/api/v1/reports/{report['id']}/issuance", admin)


def uscc(k):
    # GB 32100 check character over "91620100" + 9 digits.
    chars = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    body = f"91620100{k:09d}"
    total = sum(chars.index(c) * w for c, w in zip(body, weights))
    return body + chars[(31 - total % 31) % 31]
