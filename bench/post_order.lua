-- wrk script: POST one order per request as the customer whose token is in $TOKEN.
wrk.method = "POST"
wrk.body = '{"coffee_name": "bench", "coffee_price": 2000, "coffee_qty": 1}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
