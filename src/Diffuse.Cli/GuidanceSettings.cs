using Diffuse.Guidance;
using Diffuse.Pipelines;

namespace Diffuse.Cli;

/// <summary>The class and classifier-free guidance options of <c>sample</c> (and, without --class, of <c>eval</c>).</summary>
public sealed record GuidanceSettings(string? Class, double Scale, double Rescale, string? FirstGiven)
{
    public static readonly string[] ValueNames = ["class", "guidance", "guidance-rescale"];

    public const string HelpText = """
          --class C            class-conditional models: draw class C, by name or index (e.g. 7, or "ankle boot");
                               without it, ceil(N / K) images of each of the K classes, one grid row per class
          --guidance W         class-conditional models: classifier-free guidance eps_u + W (eps_c - eps_u) (Ho & Salimans
                               2021, diffusers' guidance_scale convention): 0 unconditional, 1 plain conditional (default),
                               above 1 more faithful to the class and less diverse; one batched forward pass of 2B images
          --guidance-rescale R pull the guided prediction's std back toward the conditional one's, R in [0, 1] (Lin et al.
                               2023, Eq. 15-16; for strong guidance, v-prediction and zero-terminal-SNR models; default 0)
        """;

    /// <summary>Reads the options; <paramref name="allowClass"/> is false where --class has no meaning (eval draws every class).</summary>
    public static GuidanceSettings From(Args a, bool allowClass = true)
    {
        if (!allowClass && a.Get("class") is not null) throw new UsageException("--class does not apply here");
        string? given = ValueNames.FirstOrDefault(n => a.Get(n) is not null);
        double scale = a.Get("guidance") is null ? 1.0 : a.Double("guidance", 1.0, 0);
        double rescale = a.Get("guidance-rescale") is null ? 0.0 : a.Double("guidance-rescale", 0.0, 0);
        if (rescale > 1) throw new UsageException($"--guidance-rescale must be in [0, 1], got {rescale}");
        return new GuidanceSettings(a.Get("class"), scale, rescale, given);
    }

    /// <summary>Refuses the options for a model without class conditioning.</summary>
    public void RequireConditional(ImageModel model)
    {
        if (FirstGiven is not null && !model.IsConditional)
            throw new UsageException($"--{FirstGiven} needs a class-conditional model (train --cond class); '{model.Directory}' is unconditional");
    }

    /// <summary>
    /// What <c>sample</c> draws: n images of --class, or without it ceil(n / K) images of each class in turn (a grid with
    /// one row per class, n rounded up to a multiple of K); null for an unconditional model.
    /// </summary>
    public Conditioning? ForSample(ImageModel model, long n)
    {
        RequireConditional(model);
        if (!model.IsConditional) return null;
        if (Class is not null) return Conditioning.Single(n, ClassLabels.Resolve(Class, model.ClassNames), Scale, Rescale);
        return Conditioning.ClassRows(n, model.ClassNames.Count, Scale, Rescale);
    }

    /// <summary>How many <paramref name="c"/> draws, its grid's columns (one row per class without --class) and its words in the report.</summary>
    public (int N, int? Columns, string What) Describe(ImageModel model, Conditioning c)
    {
        int n = c.Labels.Length;
        int? columns = Class is null ? n / model.ClassNames.Count : null;
        string what = Class is null ? $", one row per class ({columns} each)" : $", class {c.Labels[0]} '{model.ClassNames[(int)c.Labels[0]]}'";
        return (n, columns, what + $", guidance {Scale:0.###}" + (Rescale > 0 ? $", rescale {Rescale:0.###}" : ""));
    }

    /// <summary>What <c>eval</c> draws: n images with labels cycling through the classes (balanced); null for an unconditional model.</summary>
    public Conditioning? ForEval(ImageModel model, long n)
    {
        RequireConditional(model);
        return model.IsConditional ? Conditioning.Cycling(n, model.ClassNames.Count, Scale, Rescale) : null;
    }
}
