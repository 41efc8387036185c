using Diffuse.Evaluation;
using Diffuse.Pipelines;
using TorchSharp;

namespace Diffuse.Cli.Commands;

public sealed class EvalCommand : ICommand
{
    public string Name => "eval";
    public string Summary => "score a model: sliced Wasserstein distance to the data, beside a noise floor and a Gaussian baseline";
    public string Help => $"""
        diffuse eval --model runs/moons [options]

        Prints the sliced Wasserstein-1 distance (SWD) to fresh data of: the model's samples, a second
        independent draw of the data (the noise floor) and a Gaussian fitted to the data (a baseline).

          --model DIR          a model folder written by 'diffuse train'
          --n N                points in each set (default 10000)
          --projections K      random directions of the SWD (default 512)
        {SamplerOptions.HelpText}
        """;

    public int Run(string[] argv, TextWriter output)
    {
        var a = Args.Parse(Name, argv, ["model", "n", "projections", .. SamplerOptions.ValueNames], SamplerOptions.FlagNames);
        string modelDir = a.Require("model");
        int n = a.Int("n", 10_000, 2, 10_000_000);
        int projections = a.Int("projections", 512, 1, 100_000);
        var options = SamplerOptions.From(a);

        using var model = PointModel.Load(modelDir, options.UseEma);
        var scores = Score(model, options, n, projections);
        Outputs.PrintScores(output, scores, $"{options.Sampler}, {options.StepsFor(model)} steps", n);
        return Cli.Ok;
    }

    static SwdScores Score(PointModel model, SamplerOptions options, int n, int projections)
    {
        using var sampleGenerator = new torch.Generator((ulong)options.Seed);
        using var samples = options.Sample(model, n, sampleGenerator);
        return SwdScores.Measure(samples, model.Config.Data.Name, projections, options.Seed);
    }
}
