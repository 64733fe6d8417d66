-- wrk script: GET with the bearer token in $TOKEN (a customer's orders, or the deliveries it may see).
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
