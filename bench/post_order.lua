-- wrk script: POST one order per request as the customer whose token is in $TOKEN.
-- With $PACE_MS each connection waits that long before its next request, for a fixed offered rate.
wrk.method = "POST"
wrk.body = '{"coffee_name": "bench", "coffee_price": 2000, "coffee_qty": 1}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")

local pace = tonumber(os.getenv("PACE_MS") or "")
if pace then
   function delay()
      return pace
   end
end
