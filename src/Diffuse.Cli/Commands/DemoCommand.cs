using Diffuse.Data;
using Diffuse.Evaluation;
using Diffuse.Pipelines;
using TorchSharp;

namespace Diffuse.Cli.Commands;

public sealed class DemoCommand : ICommand
{
    public string Name => "demo";
    public string Summary => "train, sample and evaluate in one go on a 2-D dataset (the main job)";
    public string Help => """
        diffuse demo [--data moons] [--out runs/demo-moons] [--force]

        Trains a model with the 'train' defaults, writes samples.png (2,000 samples over the data) into
        the model folder, and prints the 'eval' scores (10,000 samples, ddpm over every training timestep).
          --data NAME          moons | swiss_roll | 8gaussians | checkerboard | circles (default moons)
          --out DIR            model folder (default runs/demo-NAME; refused if it holds a model, unless --force)
          --seed S             seed of training and sampling (default 0)
          --force              overwrite a model already in --out
        """;

    public int Run(string[] argv, TextWriter output)
    {
        var a = Args.Parse(Name, argv, ["data", "out", "seed"], ["force"]);
        string data = a.Get("data") ?? "moons";
        Toy2D.Validate(data);
        string outDir = a.Get("out") ?? Path.Combine("runs", $"demo-{data}");
        long seed = a.Long("seed", 0);
        var template = TrainCommand.Template(a);
        TrainCommand.Train(data, outDir, template, a.Has("force"), output);

        var options = new SamplerOptions(SamplerOptions.DefaultSampler, null, null, seed, UseEma: true);
        using var model = PointModel.Load(outDir);
        string png = Path.Combine(outDir, "samples.png");
        using (var g = new torch.Generator((ulong)seed))
        using (var samples = options.Sample(model, 2000, g))
            Outputs.WriteSamples(samples, model, options, png);
        output.WriteLine($"wrote 2000 samples over the data to {png}");

        const int n = 10_000;
        using var evalGenerator = new torch.Generator((ulong)seed);
        using var evalSamples = options.Sample(model, n, evalGenerator);
        Outputs.PrintScores(output, SwdScores.Measure(evalSamples, data, 512, seed), $"{options.Sampler}, {options.StepsFor(model)} steps", n);
        return Cli.Ok;
    }
}
