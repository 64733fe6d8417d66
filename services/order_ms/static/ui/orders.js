// The customer's page: place an order, and watch my orders with their delivery status, live; cancel while allowed.
import {
  ApiError, api, fillTopBar, followStream, formatTime, hide, newUuid, requireSession, showError,
} from "./api.js";

const MENU = [
  { name: "Americano", price: 2000 },
  { name: "Cafe Latte", price: 2500 },
  { name: "Cappuccino", price: 2500 },
  { name: "Espresso", price: 1500 },
  { name: "Flat White", price: 3000 },
];
const CANCEL_LABELS = { PENDING: "Cancel requested", CANCELED: "Canceled", REFUSED: "Cancel refused" };

// order-ms accepts a cancel while the delivery is CONFIRMED (or not made yet) and no cancel was requested.
function cancelAllowed(order) {
  return order.cancel === null && (order.delivery === null || order.delivery.status === "CONFIRMED");
}

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
  const cancelError = document.getElementById("cancel-error");
  const liveState = document.getElementById("live-state");
  // The orders on the page by id, as the views order-ms gave, kept current by the stream's events.
  const orders = new Map();

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

  // Events that arrive while the list is being read may be newer than what it returns: applied again after.
  let changesDuringRefresh = null;

  async function refresh() {
    changesDuringRefresh = changesDuringRefresh || [];
    let views;
    try {
      views = await api("GET", `${ordersPath}?limit=50`);
      hide(ordersError);
    } catch (error) {
      showError(ordersError, error);
      changesDuringRefresh = null;
      return;
    }
    orders.clear();
    for (const view of views) orders.set(view.order_id, view);
    renderOrders(views);
    const missed = changesDuringRefresh || [];
    changesDuringRefresh = null;
    missed.filter((change) => orders.has(change.order_id)).forEach(applyChange);
  }

  function renderOrders(views) {
    document.getElementById("orders-body").replaceChildren(...views.map(orderRow));
    document.getElementById("orders-empty").hidden = views.length > 0;
    document.getElementById("orders-table").hidden = views.length === 0;
  }

  function orderRow(order) {
    const row = document.createElement("tr");
    row.dataset.orderId = order.order_id;
    const cells = [
      formatTime(order.ordered_at), order.coffee_name, order.coffee_qty,
      (order.coffee_price * order.coffee_qty).toLocaleString(), deliveryBadge(order.delivery), cancelCell(order),
    ];
    cells.forEach((value, index) => {
      const cell = document.createElement("td");
      cell.append(value instanceof Node ? value : document.createTextNode(String(value)));
      if (index === 2 || index === 3) cell.className = "num";
      if (index === 4) cell.className = "delivery-status";
      if (index === 5) cell.className = "cancel-cell";
      row.append(cell);
    });
    return row;
  }

  function deliveryBadge(delivery) {
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
    return status;
  }

  function cancelCell(order) {
    if (cancelAllowed(order)) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "danger small cancel-button";
      button.textContent = "Cancel";
      button.addEventListener("click", () => requestCancel(order, button));
      return button;
    }
    const outcome = document.createElement("span");
    if (order.cancel) {
      outcome.className = `cancel-outcome cancel-${order.cancel.outcome}`;
      outcome.textContent = CANCEL_LABELS[order.cancel.outcome] || order.cancel.outcome;
      if (order.cancel.reason) {
        const reason = document.createElement("span");
        reason.className = "cancel-reason muted small";
        reason.textContent = ` ${order.cancel.reason}`;
        outcome.append(reason);
      }
    }
    return outcome;
  }

  function replaceRow(order) {
    orders.set(order.order_id, order);
    const row = document.querySelector(`#orders-body tr[data-order-id="${CSS.escape(order.order_id)}"]`);
    if (row) row.replaceWith(orderRow(order));
  }

  async function requestCancel(order, button) {
    hide(cancelError);
    button.disabled = true;
    try {
      replaceRow(await api("POST", `${ordersPath}/${encodeURIComponent(order.order_id)}/cancel`));
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 401)) {
        showError(cancelError, error);
      }
      // The refusal says the order moved on: show where it is now.
      await refresh();
    }
  }

  // An order-status event: the order's delivery as it is now, and the cancel's outcome when the cancel changed.
  // Neither moves backwards: a delivery keeps its newer state, a decided cancel stays decided.
  function applyChange(change) {
    if (changesDuringRefresh !== null) changesDuringRefresh.push(change);
    const order = orders.get(change.order_id);
    if (!order) {
      refresh(); // an order placed elsewhere (another tab): the list has it
      return;
    }
    let delivery = order.delivery;
    if (change.status !== null && (change.cancel === null || delivery === null)
        && (delivery === null || change.updated_at >= delivery.updated_at)) {
      delivery = { delivery_id: change.delivery_id, status: change.status, updated_at: change.updated_at };
    }
    let cancel = order.cancel;
    if (change.cancel && (cancel === null || cancel.outcome === "PENDING")) {
      cancel = { ...(cancel || {}), outcome: change.cancel.outcome, reason: change.cancel.reason };
    } else if (cancel && cancel.outcome === "PENDING" && delivery && delivery.status === "CANCELED") {
      cancel = { ...cancel, outcome: "CANCELED" };
    }
    replaceRow({ ...order, delivery, cancel });
  }

  // Live updates: the list is read again on every (re)connect without a replay position, so nothing that
  // happened before the stream opened is missed; after that the stream replays what a broken connection missed.
  let connectedOnce = false;
  followStream(`${ordersPath}/events`, {
    onOpen: () => {
      liveState.textContent = "live";
      liveState.className = "live-state live";
      hide(ordersError);
      if (!connectedOnce) refresh();
      connectedOnce = true;
    },
    onEvent: (name, data) => {
      if (name === "order-status") applyChange(data);
    },
    onProblem: (error) => {
      liveState.textContent = "not live";
      liveState.className = "live-state";
      showError(ordersError, error);
    },
  });
  refresh();
  document.getElementById("refresh-button").addEventListener("click", refresh);

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
      await refresh();
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 401)) {
        showError(orderError, error);
      }
    } finally {
      orderButton.disabled = false;
    }
  });
}
