using Diffuse.Guidance;
using Diffuse.Pipelines;

namespace Diffuse.Cli;

/// <summary>The class and classifier-free guidance options of <c>sample</c> (and, without --class, of <c>eval</c>).</summary>
public sealed record GuidanceSettings(string? Class, double Scale, double Rescale, string? FirstGiven)
{
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
