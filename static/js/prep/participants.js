// Find a participant by typing part of a name, with or without Vietnamese
// diacritics ("nguyen thi" finds "Nguyễn Thị").
export function fold(text) {
  return text
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .replace(/đ/g, "d")
    .replace(/Đ/g, "D")
    .toLowerCase()
    .trim();
}

const filter = document.getElementById("people-filter");
const table = document.getElementById("participants");
if (filter && table) {
  filter.hidden = false;
  const rows = [...table.tBodies[0].rows].map((row) => [row, fold(row.textContent)]);
  filter.addEventListener("input", () => {
    const wanted = fold(filter.value);
    for (const [row, text] of rows) {
      row.hidden = wanted !== "" && !text.includes(wanted);
    }
  });
}
