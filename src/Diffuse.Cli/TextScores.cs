using Diffuse.Data;
using Diffuse.Evaluation;
using Diffuse.Guidance;
using Diffuse.Pipelines;
using TorchSharp;

namespace Diffuse.Cli;

/// <summary>The scores of a text-conditional model (eval quality): its samples by labelled prompt, and each prompt's label accuracy.</summary>
public static class TextScores
{
    /// <summary>Samples ceil(n / P) images of each of the P labelled prompts (--prompts, or the held-out wordings) and prints the scores.</summary>
    public static int Run(TextWriter output, ImageModel model, string dataName, int n, SamplerSettings options, GuidanceSettings guidance, string precision,
        ImageLoadOptions load, string? grid, string? promptsFile)
    {
        var prompts = Prompts.ForEval(promptsFile, model);
        int perPrompt = (n + prompts.Count - 1) / prompts.Count;
        var text = TextConditioning.Rows(prompts.Select(p => p.Prompt).ToArray(), perPrompt, guidance.Scale, guidance.Rescale);
        var labels = prompts.SelectMany(p => Enumerable.Repeat((long)p.Label, perPrompt)).ToArray();
        var perPromptAccuracy = new double[prompts.Count];
        var report = QualityScoring.Evaluate(model, dataName, text.Prompts.Length, options, load, grid, output, text: text, textLabels: labels,
            inspect: (classifier, samples) =>
            {
                for (int i = 0; i < prompts.Count; i++)
                {
                    using var slice = samples.narrow(0, (long)i * perPrompt, perPrompt);
                    using var wanted = torch.full(perPrompt, (long)prompts[i].Label, torch.ScalarType.Int64);
                    perPromptAccuracy[i] = ImageQuality.LabelAccuracy(classifier.Classifier, slice, wanted);
                }
            });
        string label = $", guidance {guidance.Scale:0.###}" + (guidance.Rescale > 0 ? $", rescale {guidance.Rescale:0.###}" : "");
        Outputs.PrintImageScores(output, report, $"{options.Label(model)}, {precision}{label}", "each prompt's class");
        output.WriteLine($"label accuracy per prompt ({perPrompt} samples each; the classifier agrees with the prompt's class):");
        var names = model.Image.ClassNames;
        for (int i = 0; i < prompts.Count; i++)
            output.WriteLine($"  {perPromptAccuracy[i],8:P1}   {names[prompts[i].Label]}\t\"{prompts[i].Prompt}\"{Prompts.Unknown(model.Tokenizer!, prompts[i].Prompt)}");
        output.WriteLine($"  {report.LabelAccuracy,8:P2}   overall ({text.Prompts.Length} samples, {prompts.Count} prompts)");
        return Cli.Ok;
    }
}
