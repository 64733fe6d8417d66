-- wrk script: list the newest 50 orders of the customer whose token is in $TOKEN.
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
