using System.Globalization;
using Diffuse.Guidance;
using Diffuse.Pipelines;
using Diffuse.Text;

namespace Diffuse.Cli;

/// <summary>The prompts of a text-conditional model: <c>sample --prompt</c> and <c>eval --prompts</c>.</summary>
public static class Prompts
{
    /// <summary>Refuses --prompt / --prompts for a model without text conditioning, and --class for one with it.</summary>
    /// <param name="classGiven">Whether --class was given.</param>
    /// <param name="promptOption">The prompt option given (prompt or prompts, without dashes), or null.</param>
    public static void Check(ImageModel model, bool classGiven, string? promptOption)
    {
        if (model.IsTextConditional)
        {
            if (classGiven)
                throw new UsageException($"--class applies to class-conditional models; '{model.Directory}' is text-conditional: pass a prompt, e.g. --prompt \"a handwritten 7\"");
            return;
        }
        if (promptOption is not null)
            throw new UsageException($"--{promptOption} needs a text-conditional model (train --cond text); '{model.Directory}' is {(model.IsConditional ? "class-conditional: use --class" : "unconditional")}");
    }

    /// <summary>
    /// What <c>sample</c> draws from a text-conditional model: n images of --prompt, or without it ceil(n / K) images of
    /// each class's first training caption (one grid row per class). Notes unknown and cut words on standard error.
    /// </summary>
    public static (TextConditioning Text, int? Columns, string What) ForSample(string? given, ImageModel model, long n, GuidanceSettings guidance)
    {
        string what = guidance.Rescale > 0 ? $", guidance {guidance.Scale:0.###}, rescale {guidance.Rescale:0.###}" : $", guidance {guidance.Scale:0.###}";
        if (given is { } prompt)
        {
            return (TextConditioning.Single(n, prompt, guidance.Scale, guidance.Rescale), null, $", prompt \"{prompt}\"{Unknown(model.Tokenizer!, prompt)}{what}");
        }
        if (model.Config.Unet!.TextEncoder!.FromCaptionsFile)
            throw new UsageException($"'{model.Directory}' learnt from the captions of a {Diffuse.Data.ImageDatasets.CaptionsFile}, not from class names: pass --prompt TEXT");
        var captions = CaptionTemplates.For(model.Image.ClassNames).Select(c => c[0]).ToArray();
        long perClass = Conditioning.PerClass(n, captions.Length);
        return (TextConditioning.Rows(captions, perClass, guidance.Scale, guidance.Rescale), (int)perClass,
            $", one row per class prompted \"{captions[0]}\", ... ({perClass} each){what}");
    }

    /// <summary>The labelled prompts of <c>eval</c>: --prompts FILE, or the built-in held-out wordings.</summary>
    public static IReadOnlyList<(int Label, string Prompt)> ForEval(string? file, ImageModel model)
    {
        var classNames = model.Image.ClassNames;
        if (classNames.Length == 0)
            throw new UsageException($"'{model.Directory}' learnt from unlabelled images: eval scores prompts by the class the quality classifier sees, so it needs a model of labelled data (one sub-folder per class)");
        if (file is null && model.Config.Unet!.TextEncoder!.FromCaptionsFile)
            throw new UsageException($"'{model.Directory}' learnt from the captions of a {Diffuse.Data.ImageDatasets.CaptionsFile}: pass --prompts FILE (lines 'label<TAB>prompt') to score it");
        return file is { } path ? Read(path, classNames) : CaptionTemplates.HeldOutPrompts(classNames);
    }

    /// <summary>Reads lines 'label&lt;TAB&gt;prompt'; every problem is a one-line error naming the line.</summary>
    public static IReadOnlyList<(int Label, string Prompt)> Read(string path, IReadOnlyList<string> classNames)
    {
        if (Directory.Exists(path)) throw new UsageException($"--prompts '{path}' is a folder; give a text file of prompts");
        if (!File.Exists(path)) throw new UsageException($"--prompts file '{path}' does not exist");
        var prompts = new List<(int, string)>();
        IReadOnlyList<(int Line, string Key, string Value)> lines;
        try
        {
            lines = Diffuse.IO.TabSeparatedLines.Read(path, "label<TAB>prompt");
        }
        catch (DiffuseException e)
        {
            throw new UsageException(ConfigKeyFlags.Message(e));
        }
        foreach (var (line, key, prompt) in lines)
        {
            int label;
            try
            {
                label = ClassLabels.Resolve(key, classNames);
            }
            catch (DiffuseException e)
            {
                throw new UsageException($"{path}:{line}: {ConfigKeyFlags.Message(e)}");
            }
            prompts.Add((label, prompt));
        }
        if (prompts.Count == 0) throw new UsageException($"--prompts file '{path}' holds no prompts");
        return prompts;
    }

    /// <summary>" ([UNK]: 'w1', 'w2'; 3 words cut)" for the words the model never saw and those past its length; "" when none.</summary>
    public static string Unknown(WordTokenizer tokenizer, string prompt)
    {
        var notes = new List<string>();
        var unknown = tokenizer.UnknownWords(prompt);
        if (unknown.Count > 0) notes.Add($"[UNK]: {string.Join(", ", unknown.Select(w => $"'{w}'"))}");
        int dropped = tokenizer.DroppedWords(prompt);
        if (dropped > 0) notes.Add($"{dropped.ToString(CultureInfo.InvariantCulture)} words past the model's {tokenizer.MaxLength - 1} cut");
        return notes.Count == 0 ? "" : $" ({string.Join("; ", notes)})";
    }
}
