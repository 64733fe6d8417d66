// The staff delivery board: every delivery in the column of its status, with buttons for the allowed moves.
import { ApiError, api, fillTopBar, formatTime, hide, keepFresh, requireSession, showError } from "./api.js";

const LABELS = { IN_DELIVERY: "Start delivery", COMPLETED: "Complete", CANCELED: "Cancel" };

const current = requireSession("staff");
if (current) {
  fillTopBar(current);
  const errorBox = document.getElementById("board-error");
  const moveError = document.getElementById("move-error");
  const columns = new Map(
    Array.from(document.querySelectorAll(".column"), (column) => [column.dataset.status, column.querySelector(".cards")]),
  );

  async function refresh() {
    try {
      const deliveries = await api("GET", "/delivery-ms/deliveries?limit=200");
      render(deliveries);
      hide(errorBox);
    } catch (error) {
      showError(errorBox, error);
    }
  }

  function render(deliveries) {
    const cards = new Map(Array.from(columns.keys(), (status) => [status, []]));
    for (const delivery of deliveries) {
      cards.get(delivery.status)?.push(card(delivery));
    }
    for (const [status, list] of cards) {
      columns.get(status).replaceChildren(...list);
    }
  }

  function card(delivery) {
    const order = delivery.order || {};
    const element = document.createElement("article");
    element.className = "delivery";
    element.dataset.deliveryId = delivery.delivery_id;
    element.dataset.orderId = delivery.order_id;
    element.dataset.status = delivery.status;
    const title = document.createElement("strong");
    title.textContent = `${order.coffee_qty ?? "?"} × ${order.coffee_name ?? "coffee"}`;
    const customer = document.createElement("div");
    customer.className = "customer";
    customer.textContent = `for ${order.user_id ?? "?"}`;
    const time = document.createElement("div");
    time.className = "muted small";
    time.textContent = `updated ${formatTime(delivery.updated_at)}`;
    const actions = document.createElement("div");
    actions.className = "card-actions";
    // delivery-ms says which moves are allowed from each delivery's status; the board keeps no copy of the rules.
    for (const next of delivery.next_statuses || []) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = next === "CANCELED" ? "danger small" : "small";
      button.dataset.move = next;
      button.textContent = LABELS[next];
      button.addEventListener("click", () => move(delivery, next, actions));
      actions.append(button);
    }
    element.append(title, customer, time, actions);
    return element;
  }

  async function move(delivery, status, actions) {
    actions.querySelectorAll("button").forEach((button) => { button.disabled = true; });
    try {
      await api("PUT", `/delivery-ms/deliveries/${encodeURIComponent(delivery.delivery_id)}/status`, { body: { status } });
      hide(moveError);
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 401)) {
        showError(moveError, error);
      }
    }
    await refreshNow();
  }

  const refreshNow = keepFresh(refresh, () => 5000);
  document.getElementById("refresh-button").addEventListener("click", refreshNow);
}
