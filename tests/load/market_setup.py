"""Sets up the order-entry benchmark through the API (stdlib only): a
service centre (the administrator as its verifier), N approved
enterprises, one forest project with a batch of each of K vintages (K
instruments TPH-FOR-<vintage>, listed by the administrator at 36.00),
10,000 t of every batch given to each enterprise, and a settlement bank
(the administrator as its staff) that deposits 10 million yuan into each.
Prints "trader <token> <org_id>" per enterprise and "instrument <code>"
per instrument.

usage: market_setup.py URL ADMIN_TOKEN N K
"""
import datetime
import sys
import uuid

from setup_api import Api, uscc

url, admin, n, k = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
api = Api(url)
me = api.service_centre(admin)
bank = api.call("POST", "/api/v1/organizations", admin,
                {"kind": "bank", "name": "结算银行", "uscc": uscc(2)})
api.call("POST", f"/api/v1/organizations/{bank['id']}/roles", admin,
         {"user_id": me["id"], "role": "bank"})
ents = api.enterprises(admin, n, "trader")
for i, (_, _, org) in enumerate(ents):
    api.call("POST", "/api/v1/market/deposits", admin, {
        "bank_id": bank["id"], "reference": f"BENCH-{i}", "organization_id": org,
        "amount": "1000000000"})
year = datetime.date.today().year
project = api.forest_project(admin, ents[0], year - k, year + 20, "M-1")
first_token, first_account, _ = ents[0]
for vintage in range(year - k, year):
    batch = api.issue(admin, ents[0], project, vintage)
    for _, account, _ in ents[1:]:
        api.call("POST", "/api/v1/transfers", first_token, {
            "transfer_id": str(uuid.uuid4()), "from_account_id": first_account,
            "to_account_id": account, "batch_id": batch["id"], "quantity_g": 10_000_000_000})
    api.call("POST", "/api/v1/market/instruments", admin,
             {"code": batch["instrument"], "reference_price": "36.00"})
    print("instrument", batch["instrument"])
for token, _, org in ents:
    print("trader", token, org)
