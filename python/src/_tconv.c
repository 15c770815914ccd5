/*
 * tconv._tconv: the CPython binding of include/tconv.h.
 *
 * One type, Plan (a tconv_plan), and the library's process-wide settings as
 * functions. Tensors arrive through the buffer protocol (numpy arrays, torch
 * tensors through .numpy(), memoryviews, bytearrays); each is checked against
 * the plan's dtype and the exact byte size of its tensor before any pointer
 * reaches tconv, so a pass can never read or write past a caller's buffer.
 * The GIL is released while a pass or a measuring plan runs. The argument
 * conventions of numpy and PyTorch (an int or a pair, shapes, dtypes) belong
 * to the Python layer (tconv/_functional.py): this file maps one to one onto
 * the C API and adds no policy of its own.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <string.h>
#include <tconv.h>

/* ------------------------------------------------------------------------ */
/* Errors                                                                    */
/* ------------------------------------------------------------------------ */

/* Raises the exception of a failed tconv call with the library's own message
 * (it names the field and the value) and returns NULL. */
static PyObject *raise_status(tconv_status s)
{
    PyObject *type = PyExc_ValueError; /* EINVAL, EUNSUPPORTED */
    if (s == TCONV_EOVERFLOW)
        type = PyExc_OverflowError;
    else if (s == TCONV_ENOMEM)
        type = PyExc_MemoryError;
    else if (s == TCONV_EIO)
        type = PyExc_OSError;
    const char *msg = tconv_last_error();
    PyErr_Format(type, "tconv: %s", msg[0] ? msg : tconv_strerror(s));
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* Names of enums, as the Python layer spells them                           */
/* ------------------------------------------------------------------------ */

typedef struct named_value {
    const char *name;
    int value;
} named_value;

static const named_value layout_names[] = {
    {"NCHW", TCONV_NCHW}, {"NHWC", TCONV_NHWC}, {"SSCB", TCONV_SSCB}, {NULL, 0}};
static const named_value weight_layout_names[] = {
    {"IOHW", TCONV_W_IOHW}, {"OHWI", TCONV_W_OHWI}, {"MATLAB", TCONV_W_MATLAB}, {NULL, 0}};
static const named_value dtype_names[] = {
    {"float32", TCONV_F32}, {"float64", TCONV_F64}, {NULL, 0}};
static const named_value activation_names[] = {
    {"none", TCONV_ACT_NONE},       {"relu", TCONV_ACT_RELU},
    {"leaky_relu", TCONV_ACT_LEAKY_RELU}, {"clipped_relu", TCONV_ACT_CLIPPED_RELU},
    {"elu", TCONV_ACT_ELU},         {"sigmoid", TCONV_ACT_SIGMOID},
    {"tanh", TCONV_ACT_TANH},       {"gelu", TCONV_ACT_GELU},
    {"swish", TCONV_ACT_SWISH},     {NULL, 0}};
static const named_value isa_names[] = {
    {"scalar", TCONV_ISA_SCALAR}, {"avx2", TCONV_ISA_AVX2},
    {"avx512", TCONV_ISA_AVX512}, {"neon", TCONV_ISA_NEON}, {NULL, 0}};

/* Looks name up in table; raises ValueError naming the argument, the value
 * and the choices when it is not there. */
static int lookup_name(const named_value *table, const char *what, const char *name, int *value)
{
    for (const named_value *e = table; e->name; e++) {
        if (strcmp(e->name, name) == 0) {
            *value = e->value;
            return 0;
        }
    }
    PyObject *choices = PyUnicode_FromString("");
    for (const named_value *e = table; e->name && choices; e++) {
        PyObject *next = PyUnicode_FromFormat("%U%s'%s'", choices, e == table ? "" : ", ", e->name);
        Py_SETREF(choices, next);
    }
    if (choices) {
        PyErr_Format(PyExc_ValueError, "tconv: %s '%s' is not one of %U", what, name, choices);
        Py_DECREF(choices);
    }
    return -1;
}

/* ------------------------------------------------------------------------ */
/* Plan                                                                      */
/* ------------------------------------------------------------------------ */

typedef struct plan_object {
    PyObject_HEAD
    tconv_plan *plan;
    tconv_desc desc;
    int64_t out_h, out_w;
    size_t bytes[4];  /* of each tconv_tensor: X, W, BIAS, Y */
    char format;      /* the buffer-protocol format of the dtype: 'f' or 'd' */
} plan_object;

/* A pair of int64 given as a tuple (h, w); TypeError naming it otherwise. */
static int parse_pair(PyObject *obj, const char *name, int64_t out[2])
{
    if (!PyTuple_Check(obj) || PyTuple_GET_SIZE(obj) != 2) {
        PyErr_Format(PyExc_TypeError, "tconv: %s must be a pair (h, w), not %R", name, obj);
        return -1;
    }
    for (int i = 0; i < 2; i++) {
        out[i] = PyLong_AsLongLong(PyTuple_GET_ITEM(obj, i));
        if (out[i] == -1 && PyErr_Occurred())
            return -1;
    }
    return 0;
}

/* The crop part of the constructor: exactly one of padding (with
 * output_padding), cropping = "same" and cropping = (top, bottom, left,
 * right); none of them means no crop. */
static int plan_set_crop(tconv_desc *d, PyObject *padding, PyObject *output_padding,
                         PyObject *cropping)
{
    int64_t pad[2] = {0, 0}, out_pad[2] = {0, 0}, crop[4];
    if (cropping != Py_None && (padding != Py_None || output_padding != Py_None)) {
        PyErr_SetString(PyExc_ValueError,
                        "tconv: give cropping, or padding and output_padding, not both");
        return -1;
    }
    if (cropping == Py_None) {
        if ((padding != Py_None && parse_pair(padding, "padding", pad) < 0) ||
            (output_padding != Py_None &&
             parse_pair(output_padding, "output_padding", out_pad) < 0))
            return -1;
        tconv_status s = tconv_crop_pytorch(d, pad, out_pad);
        return s == TCONV_OK ? 0 : (raise_status(s), -1);
    }
    if (PyUnicode_Check(cropping)) {
        if (PyUnicode_CompareWithASCIIString(cropping, "same") != 0) {
            PyErr_Format(PyExc_ValueError,
                         "tconv: cropping %R is not 'same' or (top, bottom, left, right)",
                         cropping);
            return -1;
        }
        tconv_status s = tconv_crop_matlab_same(d);
        return s == TCONV_OK ? 0 : (raise_status(s), -1);
    }
    if (!PyTuple_Check(cropping) || PyTuple_GET_SIZE(cropping) != 4) {
        PyErr_Format(PyExc_TypeError,
                     "tconv: cropping %R is not 'same' or (top, bottom, left, right)", cropping);
        return -1;
    }
    for (int i = 0; i < 4; i++) {
        crop[i] = PyLong_AsLongLong(PyTuple_GET_ITEM(cropping, i));
        if (crop[i] == -1 && PyErr_Occurred())
            return -1;
    }
    tconv_status s = tconv_crop_matlab(d, crop, 4);
    return s == TCONV_OK ? 0 : (raise_status(s), -1);
}

static int plan_init(plan_object *self, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"batch", "channels", "in_h", "in_w", "filters", "filter_h",
                               "filter_w", "stride", "dilation", "groups", "dtype", "layout",
                               "weight_layout", "padding", "output_padding", "cropping",
                               "activation", "activation_alpha", "flags", NULL};
    tconv_desc d;
    tconv_desc_init(&d);
    const char *dtype = "float32", *layout = "NCHW", *weight_layout = "IOHW",
               *activation = "none";
    PyObject *padding = Py_None, *output_padding = Py_None, *cropping = Py_None;
    unsigned int flags = 0;
    if (!PyArg_ParseTupleAndKeywords(
            args, kwargs, "LLLLLLL|(LL)(LL)LsssOOOsdI:Plan", keywords, &d.batch, &d.channels,
            &d.in_h, &d.in_w, &d.filters, &d.filter_h, &d.filter_w, &d.stride_h, &d.stride_w,
            &d.dilation_h, &d.dilation_w, &d.groups, &dtype, &layout, &weight_layout, &padding,
            &output_padding, &cropping, &activation, &d.activation_alpha, &flags))
        return -1;
    int v = 0;
    if (lookup_name(dtype_names, "dtype", dtype, &v) < 0)
        return -1;
    d.dtype = (tconv_dtype)v;
    if (lookup_name(layout_names, "layout", layout, &v) < 0)
        return -1;
    d.layout = (tconv_layout)v;
    if (lookup_name(weight_layout_names, "weight_layout", weight_layout, &v) < 0)
        return -1;
    d.weight_layout = (tconv_weight_layout)v;
    if (lookup_name(activation_names, "activation", activation, &v) < 0)
        return -1;
    d.activation = (tconv_activation)v;
    if (plan_set_crop(&d, padding, output_padding, cropping) < 0)
        return -1;

    tconv_status s = tconv_desc_check(&d);
    if (s != TCONV_OK) {
        raise_status(s);
        return -1;
    }
    tconv_plan *plan = NULL;
    /* Planning may measure kernels for seconds (TCONV_TUNE_MEASURE). */
    Py_BEGIN_ALLOW_THREADS
    s = tconv_plan_create(&plan, &d, flags);
    Py_END_ALLOW_THREADS
    if (s != TCONV_OK) {
        raise_status(s);
        return -1;
    }
    tconv_plan_destroy(self->plan); /* __init__ called twice */
    self->plan = plan;
    self->desc = d;
    self->format = d.dtype == TCONV_F32 ? 'f' : 'd';
    tconv_desc_output(&d, &self->out_h, &self->out_w);
    for (int t = 0; t < 4; t++)
        tconv_desc_tensor_size(&d, (tconv_tensor)t, NULL, &self->bytes[t]);
    return 0;
}

static void plan_dealloc(plan_object *self)
{
    tconv_plan_destroy(self->plan);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int plan_ready(const plan_object *self)
{
    if (self->plan)
        return 0;
    PyErr_SetString(PyExc_RuntimeError, "tconv: Plan.__init__ has not run");
    return -1;
}

/* Takes the buffer of obj for one tensor of the plan: C-contiguous, of the
 * plan's dtype in native byte order, exactly `bytes` long, writable for an
 * output. Returns 0 with *view filled (release it), or -1 with an exception
 * naming the tensor. None gives view->buf NULL when allow_none is set. */
static int take_buffer(const plan_object *self, PyObject *obj, const char *name, size_t bytes,
                       int writable, int allow_none, Py_buffer *view)
{
    memset(view, 0, sizeof *view);
    if (obj == Py_None && allow_none)
        return 0;
    int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(obj, view, flags) < 0) {
        PyErr_Clear();
        PyErr_Format(PyExc_TypeError, "tconv: %s (%.80s) is not a C-contiguous%s buffer", name,
                     Py_TYPE(obj)->tp_name, writable ? " writable" : "");
        memset(view, 0, sizeof *view);
        return -1;
    }
    /* "f", "@f", "=f" and "<f" on a little-endian host are all native. */
    const char *f = view->format ? view->format : "B";
    if (*f == '@' || *f == '=' || (*f == '<' && PY_LITTLE_ENDIAN) || (*f == '>' && PY_BIG_ENDIAN))
        f++;
    size_t itemsize = self->format == 'f' ? 4 : 8;
    if (f[0] != self->format || f[1] != '\0' || (size_t)view->itemsize != itemsize) {
        PyErr_Format(PyExc_TypeError, "tconv: %s has format '%s', the plan's dtype is %s", name,
                     view->format ? view->format : "B",
                     self->format == 'f' ? "float32" : "float64");
        PyBuffer_Release(view);
        return -1;
    }
    if ((size_t)view->len != bytes) {
        PyErr_Format(PyExc_ValueError, "tconv: %s holds %zd bytes, the plan's %s needs %zu", name,
                     view->len, name, bytes);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

static void release_all(Py_buffer *views, int n)
{
    for (int i = 0; i < n; i++)
        if (views[i].obj)
            PyBuffer_Release(&views[i]);
}

PyDoc_STRVAR(plan_forward_doc,
             "forward(x, w, bias, y): y = C^T x (+ bias), into the buffer y.\n"
             "bias may be None; w and bias None use the weights of set_weights.\n"
             "Buffers: C-contiguous, the plan's dtype and exact sizes.");

static PyObject *plan_forward(plan_object *self, PyObject *args)
{
    PyObject *xo, *wo, *bo, *yo;
    if (plan_ready(self) < 0 || !PyArg_ParseTuple(args, "OOOO:forward", &xo, &wo, &bo, &yo))
        return NULL;
    Py_buffer v[4];
    memset(v, 0, sizeof v);
    if (take_buffer(self, xo, "x", self->bytes[TCONV_TENSOR_X], 0, 0, &v[0]) < 0 ||
        take_buffer(self, wo, "w", self->bytes[TCONV_TENSOR_W], 0, 1, &v[1]) < 0 ||
        take_buffer(self, bo, "bias", self->bytes[TCONV_TENSOR_BIAS], 0, 1, &v[2]) < 0 ||
        take_buffer(self, yo, "y", self->bytes[TCONV_TENSOR_Y], 1, 0, &v[3]) < 0) {
        release_all(v, 4);
        return NULL;
    }
    tconv_status s;
    Py_BEGIN_ALLOW_THREADS
    s = tconv_forward(self->plan, v[0].buf, v[1].buf, v[2].buf, v[3].buf);
    Py_END_ALLOW_THREADS
    release_all(v, 4);
    if (s != TCONV_OK)
        return raise_status(s);
    Py_RETURN_NONE;
}

PyDoc_STRVAR(plan_set_weights_doc,
             "set_weights(w, bias): packs w (and bias, or None) into the plan once, for\n"
             "forward(x, None, None, y) calls with no per-call packing (inference).\n"
             "It changes the plan: it must not run while a pass runs on this plan.");

static PyObject *plan_set_weights(plan_object *self, PyObject *args)
{
    PyObject *wo, *bo;
    if (plan_ready(self) < 0 || !PyArg_ParseTuple(args, "OO:set_weights", &wo, &bo))
        return NULL;
    Py_buffer v[2];
    memset(v, 0, sizeof v);
    if (take_buffer(self, wo, "w", self->bytes[TCONV_TENSOR_W], 0, 0, &v[0]) < 0 ||
        take_buffer(self, bo, "bias", self->bytes[TCONV_TENSOR_BIAS], 0, 1, &v[1]) < 0) {
        release_all(v, 2);
        return NULL;
    }
    tconv_status s;
    Py_BEGIN_ALLOW_THREADS
    s = tconv_plan_set_weights(self->plan, v[0].buf, v[1].buf);
    Py_END_ALLOW_THREADS
    release_all(v, 2);
    if (s != TCONV_OK)
        return raise_status(s);
    Py_RETURN_NONE;
}

PyDoc_STRVAR(plan_backward_data_doc,
             "backward_data(dy, w, dx): dx = C dy, the gradient of forward with respect to x.");

static PyObject *plan_backward_data(plan_object *self, PyObject *args)
{
    PyObject *dyo, *wo, *dxo;
    if (plan_ready(self) < 0 || !PyArg_ParseTuple(args, "OOO:backward_data", &dyo, &wo, &dxo))
        return NULL;
    Py_buffer v[3];
    memset(v, 0, sizeof v);
    if (take_buffer(self, dyo, "dy", self->bytes[TCONV_TENSOR_Y], 0, 0, &v[0]) < 0 ||
        take_buffer(self, wo, "w", self->bytes[TCONV_TENSOR_W], 0, 0, &v[1]) < 0 ||
        take_buffer(self, dxo, "dx", self->bytes[TCONV_TENSOR_X], 1, 0, &v[2]) < 0) {
        release_all(v, 3);
        return NULL;
    }
    tconv_status s;
    Py_BEGIN_ALLOW_THREADS
    s = tconv_backward_data(self->plan, v[0].buf, v[1].buf, v[2].buf);
    Py_END_ALLOW_THREADS
    release_all(v, 3);
    if (s != TCONV_OK)
        return raise_status(s);
    Py_RETURN_NONE;
}

PyDoc_STRVAR(plan_backward_weights_doc,
             "backward_weights(x, dy, dw, dbias): the gradients of the weights and the bias;\n"
             "dbias may be None.");

static PyObject *plan_backward_weights(plan_object *self, PyObject *args)
{
    PyObject *xo, *dyo, *dwo, *dbo;
    if (plan_ready(self) < 0 ||
        !PyArg_ParseTuple(args, "OOOO:backward_weights", &xo, &dyo, &dwo, &dbo))
        return NULL;
    Py_buffer v[4];
    memset(v, 0, sizeof v);
    if (take_buffer(self, xo, "x", self->bytes[TCONV_TENSOR_X], 0, 0, &v[0]) < 0 ||
        take_buffer(self, dyo, "dy", self->bytes[TCONV_TENSOR_Y], 0, 0, &v[1]) < 0 ||
        take_buffer(self, dwo, "dw", self->bytes[TCONV_TENSOR_W], 1, 0, &v[2]) < 0 ||
        take_buffer(self, dbo, "dbias", self->bytes[TCONV_TENSOR_BIAS], 1, 1, &v[3]) < 0) {
        release_all(v, 4);
        return NULL;
    }
    tconv_status s;
    Py_BEGIN_ALLOW_THREADS
    s = tconv_backward_weights(self->plan, v[0].buf, v[1].buf, v[2].buf, v[3].buf);
    Py_END_ALLOW_THREADS
    release_all(v, 4);
    if (s != TCONV_OK)
        return raise_status(s);
    Py_RETURN_NONE;
}

static PyObject *plan_get_info(plan_object *self, void *closure)
{
    (void)closure;
    return plan_ready(self) < 0 ? NULL : PyUnicode_FromString(tconv_plan_info(self->plan));
}

static PyObject *plan_get_output_size(plan_object *self, void *closure)
{
    (void)closure;
    return plan_ready(self) < 0 ? NULL : Py_BuildValue("(LL)", self->out_h, self->out_w);
}

static PyObject *plan_get_crops(plan_object *self, void *closure)
{
    (void)closure;
    int64_t c[4];
    if (plan_ready(self) < 0)
        return NULL;
    tconv_status s = tconv_desc_effective_crops(&self->desc, c);
    if (s != TCONV_OK)
        return raise_status(s);
    return Py_BuildValue("(LLLL)", c[0], c[1], c[2], c[3]);
}

static PyMethodDef plan_methods[] = {
    {"forward", (PyCFunction)plan_forward, METH_VARARGS, plan_forward_doc},
    {"set_weights", (PyCFunction)plan_set_weights, METH_VARARGS, plan_set_weights_doc},
    {"backward_data", (PyCFunction)plan_backward_data, METH_VARARGS, plan_backward_data_doc},
    {"backward_weights", (PyCFunction)plan_backward_weights, METH_VARARGS,
     plan_backward_weights_doc},
    {NULL, NULL, 0, NULL}};

static PyGetSetDef plan_getset[] = {
    {"info", (getter)plan_get_info, NULL, "what the plan runs (tconv_plan_info)", NULL},
    {"output_size", (getter)plan_get_output_size, NULL, "(out_h, out_w)", NULL},
    {"crops", (getter)plan_get_crops, NULL, "the crops applied: (top, bottom, left, right)",
     NULL},
    {NULL, NULL, NULL, NULL, NULL}};

PyDoc_STRVAR(plan_doc,
             "Plan(*, batch, channels, in_h, in_w, filters, filter_h, filter_w,\n"
             "     stride=(1, 1), dilation=(1, 1), groups=1, dtype='float32', layout='NCHW',\n"
             "     weight_layout='IOHW', padding=None, output_padding=None, cropping=None,\n"
             "     activation='none', activation_alpha=0.0, flags=0)\n\n"
             "A tconv plan: every decision made once for one layer configuration.\n"
             "padding/output_padding: PyTorch's (h, w) pairs; cropping: 'same' or\n"
             "(top, bottom, left, right) as MATLAB's; flags: the PLAN_/TUNE_ constants.\n"
             "The passes take buffers and may run from several threads at once.");

static PyTypeObject plan_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "tconv._tconv.Plan",
    .tp_basicsize = sizeof(plan_object),
    .tp_dealloc = (destructor)plan_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = plan_doc,
    .tp_methods = plan_methods,
    .tp_getset = plan_getset,
    .tp_init = (initproc)plan_init,
    .tp_new = PyType_GenericNew,
};

/* ------------------------------------------------------------------------ */
/* Process-wide settings                                                     */
/* ------------------------------------------------------------------------ */

static PyObject *mod_version(PyObject *m, PyObject *unused)
{
    (void)m, (void)unused;
    return PyUnicode_FromString(tconv_version());
}

static PyObject *mod_isa(PyObject *m, PyObject *unused)
{
    (void)m, (void)unused;
    return PyUnicode_FromString(tconv_isa_name(tconv_get_isa()));
}

static PyObject *mod_cpu_isa(PyObject *m, PyObject *unused)
{
    (void)m, (void)unused;
    return PyUnicode_FromString(tconv_isa_name(tconv_cpu_isa()));
}

static PyObject *mod_set_max_isa(PyObject *m, PyObject *args)
{
    (void)m;
    const char *name;
    int isa = 0;
    if (!PyArg_ParseTuple(args, "s:set_max_isa", &name) ||
        lookup_name(isa_names, "isa", name, &isa) < 0)
        return NULL;
    tconv_status s = tconv_set_max_isa((tconv_isa)isa);
    if (s != TCONV_OK)
        return raise_status(s);
    Py_RETURN_NONE;
}

static PyObject *mod_set_num_threads(PyObject *m, PyObject *args)
{
    (void)m;
    int n;
    if (!PyArg_ParseTuple(args, "i:set_num_threads", &n))
        return NULL;
    tconv_status s;
    /* It waits for a pass running on the pool, which needs no GIL to end. */
    Py_BEGIN_ALLOW_THREADS
    s = tconv_set_num_threads(n);
    Py_END_ALLOW_THREADS
    if (s != TCONV_OK)
        return raise_status(s);
    Py_RETURN_NONE;
}

static PyObject *mod_get_num_threads(PyObject *m, PyObject *unused)
{
    (void)m, (void)unused;
    return PyLong_FromLong(tconv_get_num_threads());
}

static PyObject *mod_set_tune_budget(PyObject *m, PyObject *args)
{
    (void)m;
    double seconds;
    if (!PyArg_ParseTuple(args, "d:set_tune_budget", &seconds))
        return NULL;
    tconv_status s = tconv_set_tune_budget(seconds);
    if (s != TCONV_OK)
        return raise_status(s);
    Py_RETURN_NONE;
}

static PyObject *mod_kernel_names(PyObject *m, PyObject *args)
{
    (void)m;
    const char *name;
    int isa = 0;
    if (!PyArg_ParseTuple(args, "s:kernel_names", &name) ||
        lookup_name(isa_names, "isa", name, &isa) < 0)
        return NULL;
    PyObject *list = PyList_New(0);
    const char *k;
    for (int i = 0; list && (k = tconv_kernel_name((tconv_isa)isa, i)) != NULL; i++) {
        PyObject *s = PyUnicode_FromString(k);
        if (!s || PyList_Append(list, s) < 0)
            Py_CLEAR(list);
        Py_XDECREF(s);
    }
    return list;
}

static PyObject *mod_host_info(PyObject *m, PyObject *unused)
{
    (void)m, (void)unused;
    tconv_host_info h;
    tconv_status s = tconv_host_query(&h);
    if (s != TCONV_OK)
        return raise_status(s);
    return Py_BuildValue("{s:s,s:s,s:s,s:L,s:L,s:L,s:i,s:i,s:i,s:O}", "fingerprint",
                         h.fingerprint, "cpu", h.cpu, "isa", tconv_isa_name(h.isa), "l1d_bytes",
                         h.l1d_bytes, "l2_bytes", h.l2_bytes, "l3_bytes", h.l3_bytes, "cores",
                         h.cores, "machine_cores", h.machine_cores, "pus", h.pus, "from_hwloc",
                         h.from_hwloc ? Py_True : Py_False);
}

static PyObject *mod_cache_path(PyObject *m, PyObject *unused)
{
    (void)m, (void)unused;
    return PyUnicode_FromString(tconv_cache_path());
}

/* cache_import(path) and cache_export(path): the path as a str or
 * os.PathLike, converted with the file-system encoding. */
static PyObject *cache_file_call(PyObject *args, const char *fmt,
                                 tconv_status (*fn)(const char *path))
{
    PyObject *path;
    if (!PyArg_ParseTuple(args, fmt, PyUnicode_FSConverter, &path))
        return NULL;
    tconv_status s;
    Py_BEGIN_ALLOW_THREADS
    s = fn(PyBytes_AS_STRING(path));
    Py_END_ALLOW_THREADS
    Py_DECREF(path);
    if (s != TCONV_OK)
        return raise_status(s);
    Py_RETURN_NONE;
}

static PyObject *mod_cache_import(PyObject *m, PyObject *args)
{
    (void)m;
    return cache_file_call(args, "O&:cache_import", tconv_cache_import);
}

static PyObject *mod_cache_export(PyObject *m, PyObject *args)
{
    (void)m;
    return cache_file_call(args, "O&:cache_export", tconv_cache_export);
}

static PyObject *mod_cache_clear(PyObject *m, PyObject *unused)
{
    (void)m, (void)unused;
    tconv_status s = tconv_cache_clear();
    if (s != TCONV_OK)
        return raise_status(s);
    Py_RETURN_NONE;
}

static PyMethodDef module_methods[] = {
    {"version", mod_version, METH_NOARGS, "The linked library's version, 'MAJOR.MINOR.PATCH'."},
    {"isa", mod_isa, METH_NOARGS, "The instruction set new plans use ('avx512', ...)."},
    {"cpu_isa", mod_cpu_isa, METH_NOARGS, "The best instruction set of this CPU."},
    {"set_max_isa", mod_set_max_isa, METH_VARARGS,
     "Caps the instruction set of plans created from now on."},
    {"set_num_threads", mod_set_num_threads, METH_VARARGS,
     "Threads of later passes: 1 to 1024, or 0 for the default."},
    {"get_num_threads", mod_get_num_threads, METH_NOARGS, "Threads passes split their work for."},
    {"set_tune_budget", mod_set_tune_budget, METH_VARARGS,
     "Seconds one plan may spend measuring candidates per pass (default 2)."},
    {"kernel_names", mod_kernel_names, METH_VARARGS, "The microkernels built for an ISA."},
    {"host_info", mod_host_info, METH_NOARGS, "This host as tconv sees it (tconv_host_query)."},
    {"cache_path", mod_cache_path, METH_NOARGS, "The tuning cache file of this process."},
    {"cache_import", mod_cache_import, METH_VARARGS, "Merges a tuning cache file into this host's."},
    {"cache_export", mod_cache_export, METH_VARARGS, "Writes this host's tuning cache to a file."},
    {"cache_clear", mod_cache_clear, METH_NOARGS, "Removes every tuning cache entry."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef tconv_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "tconv._tconv",
    .m_doc = "The CPython binding of libtconv (include/tconv.h); use the package tconv.",
    .m_size = -1,
    .m_methods = module_methods,
};

PyMODINIT_FUNC PyInit__tconv(void);

PyMODINIT_FUNC PyInit__tconv(void)
{
    if (PyType_Ready(&plan_type) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&tconv_module);
    if (!m)
        return NULL;
    Py_INCREF(&plan_type);
    if (PyModule_AddObject(m, "Plan", (PyObject *)&plan_type) < 0 ||
        PyModule_AddIntConstant(m, "PLAN_REFERENCE", TCONV_PLAN_REFERENCE) < 0 ||
        PyModule_AddIntConstant(m, "TUNE_NONE", TCONV_TUNE_NONE) < 0 ||
        PyModule_AddIntConstant(m, "TUNE_MEASURE", TCONV_TUNE_MEASURE) < 0 ||
        PyModule_AddIntConstant(m, "TUNE_EXHAUSTIVE", TCONV_TUNE_EXHAUSTIVE) < 0 ||
        PyModule_AddIntConstant(m, "TUNE_FWD", TCONV_TUNE_FWD) < 0 ||
        PyModule_AddIntConstant(m, "TUNE_BWD_DATA", TCONV_TUNE_BWD_DATA) < 0 ||
        PyModule_AddIntConstant(m, "TUNE_BWD_WEIGHTS", TCONV_TUNE_BWD_WEIGHTS) < 0 ||
        PyModule_AddIntConstant(m, "TUNE_ALL_PASSES", TCONV_TUNE_ALL_PASSES) < 0) {
        Py_DECREF(&plan_type);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
