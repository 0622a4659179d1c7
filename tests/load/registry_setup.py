"""Sets up the transfer benchmark through the API (stdlib only): a service
centre (the administrator as its verifier), N approved enterprises, a large
forest batch issued to the first and spread over all. Prints one line per
enterprise, "token account_id", and then "batch <id>" on the last line.

usage: registry_setup.py URL ADMIN_TOKEN N
"""
import datetime
import sys
import uuid

from setup_api import Api

url, admin, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
api = Api(url)
api.service_centre(admin)
ents = api.enterprises(admin, n, "ent")
year = datetime.date.today().year
project = api.forest_project(admin, ents[0], year - 3, year + 20, "B-1")
batch = api.issue(admin, ents[0], project, year - 1)
first_token, first_account, _ = ents[0]
for token, account, _ in ents[1:]:
    api.call("POST", "/api/v1/transfers", first_token, {
        "transfer_id": str(uuid.uuid4()), "from_account_id": first_account,
        "to_account_id": account, "batch_id": batch["id"], "quantity_g": 100_000_000_000})
for token, account, _ in ents:
    print(token, account)
print("batch", batch["id"])
