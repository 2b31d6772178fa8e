-- POST /items/42?q=search&skip=5&limit=20 with an API key and the Item body (bench/apps/api_common.py); expects 201.
wrk.method = "POST"
wrk.body = '{"name":"widget","price":9.5,"tags":["a","b"]}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-API-Key"] = "bench-key"
