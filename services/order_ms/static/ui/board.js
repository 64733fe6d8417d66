// The staff delivery board: every delivery in the column of its status, with buttons for the allowed moves,
// following new deliveries and every move live through delivery-ms's board stream.
import { ApiError, api, fillTopBar, followStream, formatTime, hide, requireSession, showError } from "./api.js";

const LABELS = { IN_DELIVERY: "Start delivery", COMPLETED: "Complete", CANCELED: "Cancel" };

const current = requireSession("staff");
if (current) {
  fillTopBar(current);
  const errorBox = document.getElementById("board-error");
  const moveError = document.getElementById("move-error");
  const liveState = document.getElementById("live-state");
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
    element.dataset.updatedAt = delivery.updated_at;
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

  function cardOf(deliveryId) {
    return document.querySelector(`.delivery[data-delivery-id="${CSS.escape(deliveryId)}"]`);
  }

  // Puts a delivery as delivery-ms shows it now (order, allowed moves) at the top of its status's column.
  function place(delivery) {
    const shown = cardOf(delivery.delivery_id);
    if (shown && shown.dataset.updatedAt > delivery.updated_at) return; // a newer state is already on the board
    shown?.remove();
    columns.get(delivery.status)?.prepend(card(delivery));
  }

  async function show(deliveryId) {
    try {
      place(await api("GET", `/delivery-ms/deliveries/${encodeURIComponent(deliveryId)}`));
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 401)) showError(errorBox, error);
    }
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
    // The card as delivery-ms holds it now (its order and the moves allowed from its new status).
    await show(delivery.delivery_id);
  }

  // Live: the board is read again on the first connect (nothing before it is missed), then every
  // delivery-status event brings its delivery's current card; a reconnect replays what it missed.
  let connectedOnce = false;
  followStream("/delivery-ms/deliveries/events", {
    onOpen: () => {
      liveState.textContent = "live";
      liveState.className = "live-state live";
      if (!connectedOnce) refresh();
      connectedOnce = true;
    },
    onEvent: (name, data) => {
      if (name !== "delivery-status") return;
      const shown = cardOf(data.delivery_id);
      if (shown && shown.dataset.status === data.status) return;
      show(data.delivery_id);
    },
    onProblem: (error) => {
      liveState.textContent = "not live";
      liveState.className = "live-state";
      showError(errorBox, error);
    },
  });
  refresh();
  document.getElementById("refresh-button").addEventListener("click", refresh);
}
