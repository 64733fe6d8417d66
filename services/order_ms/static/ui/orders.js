// The customer's page: place an order, and watch my orders with the status of their deliveries.
import { ApiError, api, fillTopBar, formatTime, hide, keepFresh, newUuid, requireSession, showError } from "./api.js";

const MENU = [
  { name: "Americano", price: 2000 },
  { name: "Cafe Latte", price: 2500 },
  { name: "Cappuccino", price: 2500 },
  { name: "Espresso", price: 1500 },
  { name: "Flat White", price: 3000 },
];
const FINAL_STATUSES = new Set(["COMPLETED", "CANCELED"]);

const current = requireSession("customer");
if (current) {
  fillTopBar(current);
  const coffee = document.getElementById("coffee-name");
  const quantity = document.getElementById("coffee-qty");
  const total = document.getElementById("order-total");
  const orderButton = document.getElementById("order-button");
  const orderError = document.getElementById("order-error");
  const orderResult = document.getElementById("order-result");
  const ordersError = document.getElementById("orders-error");
  let waitingForDeliveries = false;

  for (const item of MENU) {
    const option = document.createElement("option");
    option.value = item.name;
    option.textContent = `${item.name} · ${item.price.toLocaleString()}`;
    coffee.append(option);
  }
  const price = () => MENU.find((item) => item.name === coffee.value).price;
  const showTotal = () => {
    const qty = Number(quantity.value);
    total.textContent = Number.isInteger(qty) && qty > 0 ? (price() * qty).toLocaleString() : "–";
  };
  coffee.addEventListener("change", showTotal);
  quantity.addEventListener("input", showTotal);
  showTotal();

  const ordersPath = `/order-ms/${encodeURIComponent(current.userId)}/orders`;

  async function refresh() {
    let orders;
    try {
      orders = await api("GET", `${ordersPath}?limit=50`);
    } catch (error) {
      showError(ordersError, error);
      return;
    }
    // Deliveries come from delivery-ms on the same origin; a customer sees only their own.
    let deliveries = new Map();
    try {
      const list = await api("GET", "/delivery-ms/deliveries?limit=200");
      deliveries = new Map(list.map((delivery) => [delivery.order_id, delivery]));
      hide(ordersError);
    } catch (error) {
      showError(ordersError, error);
    }
    renderOrders(orders, deliveries);
    waitingForDeliveries = orders.some((order) => {
      const delivery = deliveries.get(order.order_id);
      return !delivery || !FINAL_STATUSES.has(delivery.status);
    });
  }

  function renderOrders(orders, deliveries) {
    const rows = orders.map((order) => {
      const row = document.createElement("tr");
      row.dataset.orderId = order.order_id;
      const delivery = deliveries.get(order.order_id);
      const status = document.createElement("span");
      if (delivery) {
        status.className = `status status-${delivery.status}`;
        status.textContent = delivery.status;
        status.title = `Updated ${formatTime(delivery.updated_at)}`;
      } else {
        status.className = "status status-waiting";
        status.textContent = "waiting";
        status.title = "The order is placed; its delivery appears in a moment.";
      }
      const cells = [
        formatTime(order.ordered_at), order.coffee_name, order.coffee_qty,
        (order.coffee_price * order.coffee_qty).toLocaleString(), status,
      ];
      cells.forEach((value, index) => {
        const cell = document.createElement("td");
        cell.append(value instanceof Node ? value : document.createTextNode(String(value)));
        if (index === 2 || index === 3) cell.className = "num";
        if (index === 4) cell.className = "delivery-status";
        row.append(cell);
      });
      return row;
    });
    document.getElementById("orders-body").replaceChildren(...rows);
    document.getElementById("orders-empty").hidden = orders.length > 0;
    document.getElementById("orders-table").hidden = orders.length === 0;
  }

  const refreshNow = keepFresh(refresh, () => (waitingForDeliveries ? 1500 : 5000));
  document.getElementById("refresh-button").addEventListener("click", refreshNow);

  document.getElementById("order-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    hide(orderError);
    orderResult.hidden = true;
    const qty = Number(quantity.value);
    orderButton.disabled = true;
    try {
      const order = await api("POST", ordersPath, {
        // A retried click must not order twice: the key makes the service answer with the first order.
        headers: { "Idempotency-Key": newUuid() },
        body: { coffee_name: coffee.value, coffee_price: price(), coffee_qty: Number.isFinite(qty) ? qty : null },
      });
      orderResult.textContent = `Ordered ${order.coffee_qty} × ${order.coffee_name}. Your delivery appears below.`;
      orderResult.hidden = false;
      await refreshNow();
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 401)) {
        showError(orderError, error);
      }
    } finally {
      orderButton.disabled = false;
    }
  });
}
