using Diffuse.Configuration;
using Diffuse.Guidance;
using Diffuse.Process;
using Diffuse.Schedules;
using Xunit;
using static TorchSharp.torch;

namespace Diffuse.Tests.Guidance;

public class ClassifierGuidanceTests
{
    static readonly NoiseSchedule Schedule = NoiseSchedule.Create(BetaSchedule.Linear, 1000);

    /// <summary>
    /// A fake linear classifier: logits_k = sum(W_k * x), so log p(y | x) = W_y . x - logsumexp_k(W_k . x) and its gradient
    /// is W_y - sum_k p_k W_k (the softmax-weighted mean of the class weights), computed here by hand in float64.
    /// </summary>
    sealed class LinearClassifier
    {
        public LinearClassifier(int classes, long[] shape)
        {
            using var g = new Generator(11);
            Weights = randn([classes, .. shape], generator: g);
        }

        public Tensor Weights { get; }
        public int Calls { get; private set; }

        public Tensor Logits(Tensor x, Tensor t)
        {
            Calls++;
            return (x.unsqueeze(1) * Weights.unsqueeze(0)).flatten(2).sum(2);
        }

        public double[] Gradient(Tensor x, long label, int sample)
        {
            var xs = x[sample].to(ScalarType.Float64).flatten().data<double>().ToArray();
            int k = (int)Weights.shape[0];
            var w = Enumerable.Range(0, k).Select(c => Weights[c].to(ScalarType.Float64).flatten().data<double>().ToArray()).ToArray();
            var logits = w.Select(wc => wc.Zip(xs, (a, b) => a * b).Sum()).ToArray();
            double max = logits.Max();
            var p = logits.Select(l => Math.Exp(l - max)).ToArray();
            double z = p.Sum();
            return Enumerable.Range(0, xs.Length).Select(i => w[label][i] - Enumerable.Range(0, k).Sum(c => p[c] / z * w[c][i])).ToArray();
        }
    }

    static Tensor Input(long seed)
    {
        using var g = new Generator((ulong)seed);
        return randn([2, 1, 3, 3], generator: g) * 0.5;
    }

    [Theory]
    [InlineData(PredictionType.Epsilon, 600, 2.0)]
    [InlineData(PredictionType.Epsilon, 10, 5.0)]
    [InlineData(PredictionType.Sample, 600, 2.0)]
    [InlineData(PredictionType.VPrediction, 300, 3.0)]
    public void TheGuidedPredictionIsTheClosedForm(PredictionType type, long timestep, double scale)
    {
        var x = Input(3);
        var classifier = new LinearClassifier(3, [1, 3, 3]);
        long[] labels = [2, 0];
        using var output = full([2, 1, 3, 3], 0.25f);
        var guidance = new ClassifierGuidance(classifier.Logits, Schedule, type, labels, scale, 1);
        var t = tensor(new long[] { timestep, timestep });
        Tensor guided;
        // The sampling loop runs without gradients: the guidance must take its own.
        using (no_grad()) guided = guidance.Wrap((_, _) => output.clone(), 0, 2)(x, t);
        double abar = Schedule.AlphaCumprod((int)timestep);
        // eps = a x + b out for this prediction type; out_hat = out - sqrt(1 - abar) s grad / b.
        double b = type switch
        {
            PredictionType.Epsilon => 1,
            PredictionType.Sample => -Math.Sqrt(abar) / Math.Sqrt(1 - abar),
            _ => Math.Sqrt(abar),
        };
        for (int sample = 0; sample < 2; sample++)
        {
            var gradient = classifier.Gradient(x, labels[sample], sample);
            var actual = guided[sample].flatten().data<float>().ToArray();
            for (int i = 0; i < actual.Length; i++)
                Assert.Equal(0.25 - Math.Sqrt(1 - abar) * scale * gradient[i] / b, actual[i], 4);
        }
        // In epsilon terms the guided prediction is eps - sqrt(1 - abar) s grad for every type (Dhariwal & Nichol 2021, Eq. 14).
        using var epsBefore = GaussianDiffusion.PredictedEpsilon(type, output, x, abar);
        using var epsAfter = GaussianDiffusion.PredictedEpsilon(type, guided, x, abar);
        var difference = (epsAfter - epsBefore)[0].flatten().data<float>().ToArray();
        var expected = classifier.Gradient(x, labels[0], 0);
        for (int i = 0; i < difference.Length; i++) Assert.Equal(-Math.Sqrt(1 - abar) * scale * expected[i], difference[i], 3);
    }

    [Theory]
    [InlineData(PredictionType.Epsilon)]
    [InlineData(PredictionType.VPrediction)]
    [InlineData(PredictionType.Sample)]
    public void WithAClipRangeTheModelsX0IsClippedBeforeTheGradientIsAdded(PredictionType type)
    {
        var x = Input(9);
        var classifier = new LinearClassifier(3, [1, 3, 3]);
        long[] labels = [1, 2];
        const long timestep = 700;
        double abar = Schedule.AlphaCumprod((int)timestep);
        // An output whose x_0 lies far outside [-1, 1] in places.
        using var wild = (arange(18, ScalarType.Float32).view(2, 1, 3, 3) - 9) * 0.6f;
        using var output = GaussianDiffusion.Convert(PredictionType.Sample, type, wild, x, abar);
        var guidance = new ClassifierGuidance(classifier.Logits, Schedule, type, labels, 2, 1) { ClipRange = 1 };
        using var guided = guidance.Wrap((_, _) => output.clone(), 0, 2)(x, tensor(new long[] { timestep, timestep }));
        double b = type switch
        {
            PredictionType.Epsilon => 1,
            PredictionType.Sample => -Math.Sqrt(abar) / Math.Sqrt(1 - abar),
            _ => Math.Sqrt(abar),
        };
        // guided = clipped + term: remove the closed-form term and the rest must be the prediction of clamp(x_0).
        using var clipped = GaussianDiffusion.Convert(PredictionType.Sample, type, wild.clamp(-1, 1), x, abar);
        for (int sample = 0; sample < 2; sample++)
        {
            var gradient = classifier.Gradient(x, labels[sample], sample);
            var actual = guided[sample].flatten().data<float>().ToArray();
            var expected = clipped[sample].flatten().data<float>().ToArray();
            for (int i = 0; i < actual.Length; i++)
                Assert.Equal(expected[i] - Math.Sqrt(1 - abar) * 2 * gradient[i] / b, actual[i], 3);
        }
    }

    [Fact]
    public void ScaleZeroIsTheDenoiserAloneAndNeverCallsTheClassifier()
    {
        var classifier = new LinearClassifier(2, [1, 3, 3]);
        var guidance = new ClassifierGuidance(classifier.Logits, Schedule, PredictionType.Epsilon, [0, 1], 0, 1);
        Func<Tensor, Tensor, Tensor> denoiser = (x, _) => x * 2;
        Assert.Same(denoiser, guidance.Wrap(denoiser, 0, 2));
        Assert.Equal(0, classifier.Calls);
    }

    [Fact]
    public void LearnedVarianceChannelsPassThroughAndEachBatchGetsItsOwnLabels()
    {
        var x = Input(5);
        var classifier = new LinearClassifier(3, [1, 3, 3]);
        long[] labels = [0, 1, 2, 1];
        var guidance = new ClassifierGuidance(classifier.Logits, Schedule, PredictionType.Epsilon, labels, 4, 1);
        using var output = cat([zeros([2, 1, 3, 3]), full([2, 1, 3, 3], 7f)], 1);
        var t = tensor(new long[] { 500, 500 });
        using var guided = guidance.Wrap((_, _) => output.clone(), 2, 2)(x, t);
        Assert.Equal(new long[] { 2, 2, 3, 3 }, guided.shape);
        Assert.True(guided.narrow(1, 1, 1).eq(7f).all().item<bool>());
        double abar = Schedule.AlphaCumprod(500);
        // Samples 2 and 3 of the run: labels 2 and 1.
        var gradient = classifier.Gradient(x, 2, 0);
        var actual = guided[0, 0].flatten().data<float>().ToArray();
        for (int i = 0; i < actual.Length; i++) Assert.Equal(-Math.Sqrt(1 - abar) * 4 * gradient[i], actual[i], 4);
    }

    [Fact]
    public void AlphaCumprodAtAFractionalTimestepLiesBetweenItsNeighbours()
    {
        var guidance = new ClassifierGuidance((x, _) => x.flatten(1), Schedule, PredictionType.Epsilon, [0], 1, 1);
        Assert.Equal(Schedule.AlphaCumprod(0), guidance.AlphaCumprodAt(0), 12);
        Assert.Equal(Schedule.AlphaCumprod(417), guidance.AlphaCumprodAt(417), 12);
        Assert.Equal(Schedule.AlphaCumprod(999), guidance.AlphaCumprodAt(999), 12);
        double between = guidance.AlphaCumprodAt(417.5);
        Assert.InRange(between, Schedule.AlphaCumprod(418), Schedule.AlphaCumprod(417));
        // Log sigma is linear in t between the neighbours.
        double Log(double abar) => 0.5 * Math.Log((1 - abar) / abar);
        Assert.Equal((Log(Schedule.AlphaCumprod(417)) + Log(Schedule.AlphaCumprod(418))) / 2, Log(between), 10);
    }

    [Fact]
    public void BadSettingsAreOneLineErrors()
    {
        Assert.Throws<DiffuseException>(() => new ClassifierGuidance((x, _) => x, Schedule, PredictionType.Epsilon, [0], -1, 1));
        Assert.Throws<DiffuseException>(() => new ClassifierGuidance((x, _) => x, Schedule, PredictionType.Epsilon, [0], double.NaN, 1));
        var guidance = new ClassifierGuidance((x, _) => x, Schedule, PredictionType.Epsilon, [0, 3], 1, 1);
        Assert.Contains("outside the classifier's labels 0..2", Assert.Throws<DiffuseException>(() => guidance.Validate(2, 3)).Message);
        Assert.Contains("need 3 labels", Assert.Throws<DiffuseException>(() => guidance.Validate(3, 4)).Message);
    }
}
