using Diffuse.Api;
using Diffuse.IO;

// dotnet run --project examples/QuickStart -c Release -- mnist runs/quickstart 2000 1000
var data = args.Length > 0 ? args[0] : "mnist";
var outDir = args.Length > 1 ? args[1] : "runs/quickstart";
int steps = args.Length > 2 ? int.Parse(args[2]) : 2000;
int count = args.Length > 3 ? int.Parse(args[3]) : 1000;
return Diffuse.Examples.QuickStart.Run(data, outDir, steps, count, Console.Out);

namespace Diffuse.Examples
{
    /// <summary>The whole cycle from C#: train a model, sample it, score it. What the README shows, run by a test.</summary>
    public static class QuickStart
    {
        public static int Run(string data, string outDir, int steps, int count, TextWriter output, string? cacheDir = null)
        {
            // 1. Train: the data's kind picks the defaults (the tiny U-Net and image settings for images).
            var run = DiffusionModel.Train(new TrainRequest { Data = data, OutDir = outDir, Steps = steps, Force = true, CacheDir = cacheDir });
            output.WriteLine($"trained {run.Steps} steps, final loss {run.FinalLoss:F4}, {run.Parameters:N0} parameters");

            // 2. Sample: the library's default sampler and steps for the model (DDIM, 50 steps, bf16 for images).
            using var model = DiffusionModel.Load(run.Directory);
            using var samples = model.Sample(new SampleRequest { Count = 16, Seed = 1 });
            if (!model.IsImage)
            {
                output.WriteLine($"sampled {samples.shape[0]} points");
                return 0;
            }
            string grid = Path.Combine(outDir, "quickstart-samples.png");
            ImageGrid.WritePng(grid, samples);
            output.WriteLine($"wrote {grid}");

            // 3. Evaluate: FCD, classifier confidence and class entropy against the training data, beside the real floor.
            var report = model.Evaluate(new EvaluateRequest { Count = count, CacheDir = cacheDir });
            output.WriteLine($"FCD {report.Samples.Fcd:F2} (real floor {report.Floor.Fcd:F2}), confidence {report.Samples.MeanConfidence:F3}, class entropy {report.Samples.ClassEntropy:F3}");
            return 0;
        }
    }
}
