// Ask before destructive submits: every form with data-confirm="question".
// The question is rendered (and translated) by the server.
export function guardDestructiveForms(root = document) {
  root.addEventListener("submit", (event) => {
    const form = event.target.closest("form[data-confirm]");
    if (form && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  });
}

guardDestructiveForms();
