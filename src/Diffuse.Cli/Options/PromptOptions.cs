using System.CommandLine;

namespace Diffuse.Cli;

/// <summary>The prompts of a text-conditional model: <c>sample --prompt TEXT</c> and <c>eval --prompts FILE</c> (see <see cref="Prompts"/>).</summary>
public static class PromptOptions
{
    /// <summary>--prompt TEXT; "" is allowed (the unconditional model).</summary>
    public static Option<string?> Prompt() => new("--prompt")
    {
        HelpName = "TEXT",
        Description = "text-conditional models (train --cond text): draw TEXT, e.g. \"a handwritten 3\"; words the model never saw become [UNK] " +
                      "(listed in the report), \"\" is the unconditional model; without --prompt, ceil(N / K) images of each class's first training " +
                      "caption, one grid row per class (a model trained on a captions.tsv needs --prompt); --guidance W guides against the empty prompt",
    };

    public static Option<string?> File() => Opt.Text("--prompts",
        "text-conditional models: lines 'label<TAB>prompt' (label: class index or name; blank lines and # lines skipped), --n split evenly over " +
        "the prompts; without it, a built-in wording per class that no training caption uses (a model trained on a captions.tsv needs --prompts); " +
        "the report adds the label accuracy of each prompt and over all", helpName: "FILE");
}
