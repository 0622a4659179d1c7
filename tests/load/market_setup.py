"""Sets up the order-entry benchmark through the API (stdlib only): a
service centre (the administrator as its verifier), N approved
enterprises, one forest project with a batch of each of K vintages (K
instruments TPH-FOR-<vintage>, listed by the administrator at 36.00),
every batch spread over the enterprises, and a settlement bank that
deposits 10 million yuan into each. Prints "trader <token> <org_id>" per
enterprise and "instrument <code>" per instrument.

usage: market_setup.py URL ADMIN_TOKEN N K
"""
import datetime
import json
import sys
import urllib.error
import urllib.request
import uuid

url, admin, n, k = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
PASSWORD = "bench password 0123"


def call(method, path, token=None, body=None, expect=(200, 201)):
    req = urllib.request.Request(url + path, method=method)
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
        sys.exit(f"{method} {path}: {status} {text.decode()}")
    return json.loads(text) if text else None


def uscc(i):
    # GB 32100 check character over "91620100" + 9 digits.
    chars = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    body = f"91620100{i:09d}"
    total = sum(chars.index(c) * w for c, w in zip(body, weights))
    return body + chars[(31 - total % 31) % 31]


def user(email):
    call("POST", "/api/v1/auth/register", body={"email": email, "password": PASSWORD})
    return call("POST", "/api/v1/auth/login", body={"login": email, "password": PASSWORD})["access_token"]


me = call("GET", "/api/v1/me", admin)
centre = call("POST", "/api/v1/organizations", admin,
              {"kind": "service_centre", "name": "碳中和服务中心", "uscc": uscc(1)})
call("POST", f"/api/v1/organizations/{centre['id']}/roles", admin,
     {"user_id": me["id"], "role": "verifier"})
bank = call("POST", "/api/v1/organizations", admin,
            {"kind": "bank", "name": "结算银行", "uscc": uscc(2)})
call("POST", f"/api/v1/organizations/{bank['id']}/roles", admin,
     {"user_id": me["id"], "role": "bank"})
ents = []
for i in range(n):
    token = user(f"trader{i}@bench.cn")
    org = call("POST", "/api/v1/organizations", token,
               {"kind": "enterprise", "name": f"企业{i}", "uscc": uscc(100 + i)})
    org = call("POST", f"/api/v1/organizations/{org['id']}/approve", admin, {})
    ents.append((token, org["account_id"], org["id"]))
    call("POST", "/api/v1/market/deposits", admin, {
        "bank_id": bank["id"], "reference": f"BENCH-{i}", "organization_id": org["id"],
        "amount": "1000000000"})
year = datetime.date.today().year
first_token, first_account, first_org = ents[0]
project = call("POST", "/api/v1/projects", first_token, {
    "organization_id": first_org, "name": "bench forest", "kind": "afforestation",
    "methodology": "ccer-14-001-v01", "methodology_version": 1, "region_code": "620100",
    "location": {"parcels": [{"id": "M-1", "area_ha": "100000"}]},
    "crediting_start": f"{year - k}-01-01", "crediting_end": f"{year + 20}-12-31"})
call("POST", f"/api/v1/projects/{project['id']}/submit", first_token)
call("POST", f"/api/v1/projects/{project['id']}/decision", admin, {"decision": "approve"})
for vintage in range(year - k, year):
    report = call("POST", f"/api/v1/projects/{project['id']}/reports", first_token, {
        "period_start": f"{vintage}-01-01", "period_end": f"{vintage}-12-31",
        "activity": {"calculator": "forest", "request": {
            "area_ha": "100000", "volume_m3_per_ha_start": "20", "volume_m3_per_ha_end": "50",
            "wood_density": "0.5", "bef": "1.5", "root_shoot_ratio": "0.25", "carbon_fraction": "0.5"}}})
    call("POST", f"/api/v1/reports/{report['id']}/verification", admin, {"verdict": "accept"})
    batch = call("POST", f"/api/v1/reports/{report['id']}/issuance", admin)
    for token, account, _ in ents[1:]:
        call("POST", "/api/v1/transfers", first_token, {
            "transfer_id": str(uuid.uuid4()), "from_account_id": first_account,
            "to_account_id": account, "batch_id": batch["id"], "quantity_g": 10_000_000_000})
    call("POST", "/api/v1/market/instruments", admin,
         {"code": batch["instrument"], "reference_price": "36.00"})
    print("instrument", batch["instrument"])
for token, _, org in ents:
    print("trader", token, org)
