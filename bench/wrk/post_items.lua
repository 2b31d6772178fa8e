-- POST /items with the pydantic Item body (bench/apps/common.py); expects 201.
wrk.method = "POST"
wrk.body = '{"name":"widget","price":9.5,"tags":["a","b"]}'
wrk.headers["Content-Type"] = "application/json"
