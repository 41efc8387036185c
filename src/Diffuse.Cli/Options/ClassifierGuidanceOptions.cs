using System.CommandLine;

namespace Diffuse.Cli;

/// <summary><c>--classifier DIR</c> and <c>--classifier-scale S</c>: classifier guidance of an unconditional image model.</summary>
public sealed class ClassifierGuidanceOptions
{
    public Option<string?> Directory { get; } = Opt.Text("--classifier",
        "unconditional models: classifier guidance (Dhariwal & Nichol 2021) by a noise-aware classifier from 'diffuse train-classifier' " +
        "(same image size, channels and noise schedule as the model): eps - sqrt(1 - abar_t) S grad log p(y | x_t); any scheduler",
        helpName: "DIR");
    public Option<double> Scale { get; } = Opt.Double("--classifier-scale", "the classifier guidance scale S (0 is the unguided model)", 1.0, Bounds.Within(0, 1000));

    /// <summary>Adds the options and the checks that need no model: the scale needs a classifier, which takes no classifier-free guidance.</summary>
    public void AddTo(Command command, SamplerOptions sampler, GuidanceOptions? guidance)
    {
        command.AddOptions(Directory, Scale);
        command.Check(r =>
        {
            if (!r.Given(Directory))
            {
                if (r.Given(Scale)) throw new UsageException("--classifier-scale needs --classifier DIR (a classifier from 'diffuse train-classifier')");
                return;
            }
            if (guidance is not null && r.FirstGiven(guidance.Scale, guidance.Rescale) is { } other)
                throw new UsageException($"{other} is classifier-free guidance of class-conditional models; with --classifier use --classifier-scale");
            if (r.GetValue(sampler.Sampler) is { } name && ScoreSampling.ScoreSamplers.IsScoreSampler(name))
                throw new UsageException($"classifier guidance runs with the schedulers; the score sampler '{name}' cannot take it");
        });
    }

    public ClassifierGuidanceSettings Read(ParseResult result) => new(result.GetValue(Directory), result.GetValue(Scale));
}
