// The integration guide's model client, as a frontend or a script written to the guide calls GET /api/models.
// Its TypeScript, with the types dropped so that Node (18+) runs it as it is:
//
//   interface Model { id: string; name: string; provider: string; contextWindow: number }
//   async function fetchModels(): Promise<Model[]>
//
// Usage: node examples/guide-client.mjs [http://127.0.0.1:8501]
// Prints one line per model and exits 1 when the answer is not the guide's shape.

export async function fetchModels(baseUrl = "") {
  const response = await fetch(`${baseUrl}/api/models`);
  if (!response.ok) {
    throw new Error(`Failed to fetch models: ${response.status} ${await response.text()}`);
  }
  return response.json();
}

// The guide's expectations of the answer: an array of models with these four fields, the proxy's own saying
// provider "litellm" (its chat route sends those through LiteLLM).
export function checkModels(models) {
  const problems = [];
  if (!Array.isArray(models)) return [`not an array: ${JSON.stringify(models).slice(0, 80)}`];
  for (const model of models) {
    if (typeof model.id !== "string" || typeof model.name !== "string" || typeof model.provider !== "string")
      problems.push(`id, name and provider must be strings: ${JSON.stringify(model)}`);
    if (!(typeof model.contextWindow === "number" || model.contextWindow === null))
      problems.push(`contextWindow must be a number: ${JSON.stringify(model)}`);
  }
  if (!models.some((model) => model.provider === "litellm")) problems.push("no model through LiteLLM");
  return problems;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const models = await fetchModels(process.argv[2] ?? "http://127.0.0.1:8501");
  for (const model of models) {
    const route = model.provider === "litellm" ? "via LiteLLM" : `direct (${model.provider})`;
    console.log(`${model.id}\t${model.name}\t${route}\t${model.contextWindow ?? "?"}`);
  }
  const problems = checkModels(models);
  for (const problem of problems) console.error(problem);
  process.exit(problems.length ? 1 : 0);
}
