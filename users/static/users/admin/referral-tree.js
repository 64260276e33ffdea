// The referral tree on a user's admin page: a node's referrals are loaded when it is
// opened, a page at a time, from the admin's referrals.json of that node. Text only ever
// goes in as text (textContent), never as markup.
"use strict";
(function () {
  function counts(container, node) {
    return container.dataset.labelCounts
      .replace("{direct}", node.direct)
      .replace("{total}", node.total);
  }

  function loadInto(container, list, url) {
    const more = document.createElement("li");
    list.appendChild(more);
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.json();
      })
      .then(function (page) {
        more.remove();
        page.nodes.forEach(function (node) { list.appendChild(item(container, node)); });
        if (page.next) {
          const next = document.createElement("li");
          const button = document.createElement("button");
          button.type = "button";
          button.className = "referral-more";
          button.textContent = container.dataset.labelMore;
          button.addEventListener("click", function () {
            next.remove();
            loadInto(container, list, new URL(page.next, new URL(url, location.href)).href);
          });
          next.appendChild(button);
          list.appendChild(next);
        }
      })
      .catch(function () {
        more.className = "errornote";
        more.textContent = container.dataset.labelFailed;
      });
  }

  function item(container, node) {
    const li = document.createElement("li");
    li.className = "referral-node";
    li.dataset.uuid = node.uuid;
    const toggle = document.createElement("button");
    toggle.type = "button";
    toggle.className = "referral-toggle";
    if (node.direct > 0) {
      toggle.textContent = "▸";
      toggle.title = container.dataset.labelExpand;
      toggle.setAttribute("aria-expanded", "false");
      let children = null;
      toggle.addEventListener("click", function () {
        const open = toggle.getAttribute("aria-expanded") === "true";
        if (open) {
          children.hidden = true;
        } else if (children) {
          children.hidden = false;
        } else {
          children = document.createElement("ul");
          li.appendChild(children);
          loadInto(container, children, node.children_url);
        }
        toggle.setAttribute("aria-expanded", open ? "false" : "true");
        toggle.textContent = open ? "▸" : "▾";
        toggle.title = open ? container.dataset.labelExpand : container.dataset.labelCollapse;
      });
    } else {
      toggle.disabled = true;
      toggle.textContent = "·";
    }
    const link = document.createElement("a");
    link.href = node.url;
    link.className = "referral-label";
    link.textContent = node.label;
    const info = document.createElement("span");
    info.className = "referral-counts";
    info.textContent = counts(container, node);
    li.append(toggle, link, info);
    return li;
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".referral-tree[data-url]").forEach(function (container) {
      const list = document.createElement("ul");
      container.appendChild(list);
      loadInto(container, list, container.dataset.url);
    });
  });
})();
